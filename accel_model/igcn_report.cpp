#include "accel_model/igcn_report.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <memory>

#include "accel_model/island_model.h"
#include "accel_model/model_probe.h"
#include "accel_model/spy_plot.h"
#include "core/error.h"
#include "gcn/gcn_conv.h"
#include "sampling/block.h"

namespace halo {
namespace {

// Seconds in the unit that suits them.
std::string duration(double s) {
  if (s < 1e-3) return fmt::format("{:.3g} us", s * 1e6);
  if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

// The first layer as a GCNConv, or null when some layer is not one.
std::shared_ptr<GCNConvImpl> first_gcn_layer(const Model& model) {
  for (int64_t l = 0; l < model->num_layers(); ++l) {
    if (!std::dynamic_pointer_cast<GCNConvImpl>(model->layer(l).ptr())) return nullptr;
  }
  return model->num_layers() > 0 ? std::dynamic_pointer_cast<GCNConvImpl>(model->layer(0).ptr()) : nullptr;
}

std::string text(const Dataset& d, const std::string& note, const IslandModel& m, const ModelProbe& probe,
                 const Estimate& e) {
  const Islands& s = m.islands();
  const AggregationCount& a = m.aggregation();
  const auto n = static_cast<double>(d.num_nodes());
  int64_t largest = 0;
  for (int64_t i = 0; i < s.num_islands(); ++i) largest = std::max(largest, s.offsets[i + 1] - s.offsets[i]);
  std::string t = fmt::format("I-GCN estimate: {}, {} nodes, {} entries of A + I; {} {}-layer GCN\n", d.name,
                              d.num_nodes(), a.plain, note, probe.layers.size());
  t += fmt::format(
      "  islands {} ({:.1f}% of nodes, mean {:.2f} nodes, largest {}), hubs {} ({:.1f}%), hub-hub edges {}\n",
      s.num_islands(), 100 * static_cast<double>(s.nodes.size()) / n,
      s.num_islands() > 0 ? static_cast<double>(s.nodes.size()) / static_cast<double>(s.num_islands()) : 0.0, largest,
      s.hubs.size(), 100 * static_cast<double>(s.hubs.size()) / n, s.hub_edges);
  t += fmt::format("  {} rounds, {} tasks, {} dropped, {} adjacency re-reads; islandized in {}\n", s.rounds, s.tasks,
                   s.dropped_tasks, s.rereads, duration(m.islandize_seconds()));
  t += fmt::format("  aggregation {} -> {} vector ops with k = {} windows: {:.1f}% pruned\n", a.plain, a.windowed,
                   m.config().window(), 100 * a.pruned());
  for (size_t l = 0; l < e.shapes.size(); ++l) {
    t += fmt::format("  layer {}: {} -> {}, input {:.1f}% non-zero: combination {} MACs, aggregation {} -> {} MACs\n",
                     l, e.shapes[l].in_features, e.shapes[l].out_features,
                     100 * static_cast<double>(e.shapes[l].input_nnz) / (n * e.shapes[l].in_features),
                     e.ops[l].combination, e.ops[l].aggregation_plain, e.ops[l].aggregation_windowed);
  }
  if (!probe.exact) t += "  (hidden-layer inputs counted dense: the model has LayerNorm between layers)\n";
  t += fmt::format(
      "  latency: I-GCN {} (roofline {}), baseline {} (roofline {}), this CPU {} (median of {} runs, {} thread{})\n",
      duration(e.igcn.compute_s()), duration(e.igcn.roofline_s()), duration(e.baseline.compute_s()),
      duration(e.baseline.roofline_s()), duration(probe.inference_seconds), probe.repeats, at::get_num_threads(),
      at::get_num_threads() == 1 ? "" : "s");
  t +=
      fmt::format("  speedup of I-GCN: {:.0f}x over this CPU, {:.2f}x over the baseline (roofline: {:.0f}x, {:.2f}x)\n",
                  probe.inference_seconds / e.igcn.compute_s(), e.baseline.compute_s() / e.igcn.compute_s(),
                  probe.inference_seconds / e.igcn.roofline_s(), e.baseline.roofline_s() / e.igcn.roofline_s());
  return t;
}

// Part `s` as a dataset of its own: its inner nodes and the edges among them (the shard's
// columns below num_inner are its inner nodes).
Dataset inner_dataset(Shard s) {
  EdgeList e;
  e.num_nodes = s.num_inner();
  for (int64_t row = 0; row < s.num_inner(); ++row) {
    for (int64_t k = s.offsets[row]; k < s.offsets[row + 1]; ++k) {
      if (s.indices[k] < s.num_inner()) e.src.push_back(s.indices[k]), e.dst.push_back(static_cast<int32_t>(row));
    }
  }
  Dataset d;
  d.name = fmt::format("{} part {} of {}", s.dataset, s.part, s.num_parts);
  d.graph = Graph::from_edges(e);
  d.features = std::move(s.features);
  d.labels = std::move(s.labels);
  d.train_mask = std::move(s.train_mask);
  d.val_mask = std::move(s.val_mask);
  d.test_mask = std::move(s.test_mask);
  d.num_classes = s.num_classes;
  return d;
}

// `scope` (lines of text) says what part of the graph the estimate covers, if not all of it.
IgcnReport trained_report(const Dataset& d, const Model& trained, const std::string& scope) {
  if (!first_gcn_layer(trained)) {
    return {{{"skipped", "not a GCN"}}, "I-GCN estimate: skipped, the accelerator runs GCN models only\n"};
  }
  IgcnReport r = igcn_report(d, trained, "trained");
  r.json["part_only"] = !scope.empty();
  r.text += scope;
  return r;
}

// The note for a model that is not a GCN, which needs no data.
TrainedEstimate not_a_gcn() {
  return [](const Model& trained) { return trained_report(Dataset(), trained, ""); };
}

}  // namespace

IgcnReport igcn_report(const Dataset& d, Model model, const std::string& model_note, const AccelConfig& config,
                       const std::string& spy_path) {
  const std::shared_ptr<GCNConvImpl> first = first_gcn_layer(model);
  if (!first) throw UsageError("I-GCN estimate: the model is not a GCN; the accelerator runs GCN layers only");
  if (first->options.in_features() != d.num_features()) {
    throw UsageError(fmt::format("I-GCN estimate: the model takes {} input features, {} has {}",
                                 first->options.in_features(), d.name, d.num_features()));
  }
  const Block block = Block::whole_graph(d.graph);
  const ModelProbe probe = probe_model(model, block, d.features);
  const IslandModel m(d.graph, config);
  const Estimate e = m.estimate(probe.layers);
  if (!spy_path.empty()) write_spy_plot(d.graph, m.islands(), spy_path);

  nlohmann::json j = m.to_json();
  j["dataset"] = d.name;
  j["nodes"] = d.num_nodes();
  j["model"] = model_note;
  j["layer_inputs_exact"] = probe.exact;
  j["estimate"] = e.to_json();
  j["cpu_inference_s"] = probe.inference_seconds;
  j["cpu_threads"] = at::get_num_threads();
  j["speedup_vs_cpu"] = probe.inference_seconds / e.igcn.compute_s();
  j["speedup_vs_baseline"] = e.baseline.compute_s() / e.igcn.compute_s();
  j["speedup_vs_cpu_roofline"] = probe.inference_seconds / e.igcn.roofline_s();
  j["speedup_vs_baseline_roofline"] = e.baseline.roofline_s() / e.igcn.roofline_s();
  if (!spy_path.empty()) j["spy_plot"] = spy_path;
  return {j, text(d, model_note, m, probe, e)};
}

TrainedEstimate igcn_after_training(std::function<Dataset()> load, const Model& model) {
  if (!first_gcn_layer(model)) return not_a_gcn();
  return [load = std::move(load)](const Model& trained) {
    Dataset d;
    try {
      d = load();
    } catch (const std::exception& e) {  // the training's results stand; only the estimate is lost
      return IgcnReport{{{"skipped", e.what()}},
                        fmt::format("I-GCN estimate: skipped, reading the dataset again failed: {}\n", e.what())};
    }
    return trained_report(d, trained, "");
  };
}

TrainedEstimate igcn_after_training(Shard part, const Model& model) {
  if (part.part != 0) return nullptr;
  if (!first_gcn_layer(model)) return not_a_gcn();
  auto d = std::make_shared<const Dataset>(inner_dataset(std::move(part)));
  return [d](const Model& trained) {
    return trained_report(*d, trained,
                          "  (part 0 only: its inner nodes and the edges among them; for the whole graph run\n"
                          "   halo igcn PARTITION_DIR --model CHECKPOINT)\n");
  };
}

}  // namespace halo
