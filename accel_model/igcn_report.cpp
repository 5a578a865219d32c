#include "accel_model/igcn_report.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "accel_model/island_model.h"
#include "accel_model/model_probe.h"
#include "accel_model/spy_plot.h"
#include "core/error.h"
#include "core/resources.h"
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

std::string bytes_text(int64_t b) {
  const auto x = static_cast<double>(b);
  if (x < 1e6) return fmt::format("{:.3g} kB", x / 1e3);
  if (x < 1e9) return fmt::format("{:.3g} MB", x / 1e6);
  return fmt::format("{:.3g} GB", x / 1e9);
}

// "1: 40%, 2: 25%, 3-4: ..." over the island-size buckets.
std::string histogram_text(const std::vector<int64_t>& buckets) {
  int64_t total = 0;
  for (int64_t c : buckets) total += c;
  std::string t;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const int64_t lo = (int64_t{1} << b) / 2 + 1, hi = int64_t{1} << b;
    t += fmt::format("{}{}: {:.1f}%", b == 0 ? "" : ", ",
                     lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi),
                     total > 0 ? 100.0 * static_cast<double>(buckets[b]) / static_cast<double>(total) : 0.0);
  }
  return t;
}

std::string text(const Dataset& d, const std::string& note, const IslandModel& m, const ModelProbe& probe,
                 const Estimate& e, bool density_given) {
  const Islands& s = m.islands();
  const AggregationCount& a = m.aggregation();
  const auto n = static_cast<double>(d.num_nodes());
  std::string t = fmt::format("I-GCN estimate: {}, {} nodes, {} entries of A + I; {} {}-layer GCN\n", d.name,
                              d.num_nodes(), a.plain, note, probe.layers.size());
  t += fmt::format(
      "  islands {} ({:.1f}% of nodes, mean {:.2f} nodes, largest {}), hubs {} ({:.1f}%), hub-hub edges {}\n",
      s.num_islands(), 100 * static_cast<double>(s.nodes.size()) / n,
      s.num_islands() > 0 ? static_cast<double>(s.nodes.size()) / static_cast<double>(s.num_islands()) : 0.0,
      largest_island(s), s.hubs.size(), 100 * static_cast<double>(s.hubs.size()) / n, s.hub_edges);
  t += fmt::format("  island sizes {}\n", histogram_text(island_size_histogram(s)));
  t += fmt::format("  {} rounds, {} tasks, {} dropped, {} adjacency re-reads; islandized in {}\n", s.rounds, s.tasks,
                   s.dropped_tasks, s.rereads, duration(m.islandize_seconds()));
  t += fmt::format(
      "  aggregation pruned (k = {} windows): {:.1f}% with the window sums in combination (the paper's count), "
      "{:.1f}% with them in aggregation\n",
      m.config().window(), 100 * a.pruned(), 100 * a.pruned_with_sums());
  t += std::isnan(m.bound())
           ? std::string("  the most the window rule could prune: not computed (the squared degrees sum past 2^31)\n")
           : fmt::format(
                 "  the window rule prunes at most {:.1f}% / {:.1f}% of this graph (any islands, any column order)\n",
                 100 * m.bound(), 100 * m.bound_with_sums());
  for (size_t l = 0; l < e.shapes.size(); ++l) {
    t += fmt::format(
        "  layer {}: {} -> {}, input {:.1f}% non-zero{}: combination {} MACs (+ {} for window sums), "
        "aggregation {} -> {} MACs\n",
        l, e.shapes[l].in_features, e.shapes[l].out_features,
        100 * static_cast<double>(e.shapes[l].input_nnz) / (n * static_cast<double>(e.shapes[l].in_features)),
        l == 0 && density_given ? " (given)" : "", e.ops[l].combination, e.ops[l].window_sums,
        e.ops[l].aggregation_plain, e.ops[l].aggregation_windowed);
  }
  if (!probe.exact) t += "  (hidden-layer inputs counted dense: the model has LayerNorm between layers)\n";
  auto latency = [](const AcceleratorOptions& a, const Latency& l) {
    return fmt::format("{} {} (compute {} at {:.0f}% of its MACs, off chip {})", a.name(), duration(l.seconds()),
                       duration(l.compute_s()), 100 / a.calibration(),
                       l.off_chip_bytes() > 0 ? bytes_text(l.off_chip_bytes()) : "nothing: the working set fits");
  };
  t += fmt::format("  latency: {}\n", latency(m.config().igcn(), e.igcn));
  t += fmt::format("           {}\n", latency(m.config().baseline(), e.baseline));
  t += fmt::format("  this CPU: {} (Halo's inference, median of {} runs, {} thread{}{})\n",
                   duration(probe.inference_seconds), probe.repeats, at::get_num_threads(),
                   at::get_num_threads() == 1 ? "" : "s", density_given ? ", on the features as they are" : "");
  t += fmt::format("  speedup of I-GCN: {:.0f}x over this CPU, {:.2f}x over {}\n",
                   probe.inference_seconds / e.igcn.seconds(), e.baseline.seconds() / e.igcn.seconds(),
                   m.config().baseline().name());
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
  IgcnReport r = igcn_report(d, trained);
  r.json["part_only"] = !scope.empty();
  r.text += scope;
  return r;
}

// The note for a model that is not a GCN, which needs no data.
TrainedEstimate not_a_gcn() {
  return [](const Model& trained) { return trained_report(Dataset(), trained, ""); };
}

}  // namespace

IgcnReport igcn_report(const Dataset& d, Model model, const IgcnOptions& o) {
  const std::shared_ptr<GCNConvImpl> first = first_gcn_layer(model);
  if (!first) throw UsageError("I-GCN estimate: the model is not a GCN; the accelerator runs GCN layers only");
  if (first->options.in_features() != d.num_features()) {
    throw UsageError(fmt::format("I-GCN estimate: the model takes {} input features, {} has {}",
                                 first->options.in_features(), d.name, d.num_features()));
  }
  const std::optional<double> density = o.input_density();
  if (density && !(*density > 0 && *density <= 1)) {
    throw UsageError(fmt::format("I-GCN estimate: the input density must be in (0, 1], got {}", *density));
  }
  const AccelConfig& config = o.config();
  const std::string& model_note = o.model_note();
  const std::string& spy_path = o.spy_path();
  const Block block = Block::whole_graph(d.graph);
  ModelProbe probe = probe_model(model, block, d.features);
  if (density) {
    probe.layers[0].input_nnz =
        std::llround(*density * static_cast<double>(d.num_nodes()) * static_cast<double>(d.num_features()));
  }
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
  j["cpu_inference_runs"] = probe.repeats;
  j["cpu_threads"] = at::get_num_threads();
  j["input_density_given"] = density.has_value();
  j["speedup_vs_cpu"] = probe.inference_seconds / e.igcn.seconds();
  j["speedup_vs_baseline"] = e.baseline.seconds() / e.igcn.seconds();
  if (!spy_path.empty()) j["spy_plot"] = spy_path;
  return {j, text(d, model_note, m, probe, e, density.has_value())};
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

TrainedEstimate igcn_after_training(PartitionMeta meta, int rank, std::function<void(Dataset&)> prepare,
                                    const Model& model) {
  if (rank != 0) return nullptr;
  if (!first_gcn_layer(model)) return not_a_gcn();
  return [meta = std::move(meta), prepare = std::move(prepare)](const Model& trained) {
    // The features and edge lists twice over (a generated source builds its edges first).
    const double bytes = 2.0 * static_cast<double>(meta.num_nodes * meta.num_features * 4 + meta.num_edges * 16);
    std::string why = memory_shortfall(bytes, fmt::format("the whole graph ({} nodes)", meta.num_nodes));
    if (why.empty()) {
      try {
        Dataset d = load_partition_source(meta);
        prepare(d);
        return trained_report(d, trained, "");
      } catch (const std::exception& e) {
        why = e.what();
      }
    }
    Dataset d = inner_dataset(load_shard(meta, 0));
    prepare(d);
    return trained_report(
        d, trained,
        fmt::format("  (part 0 only: its inner nodes and the edges among them; the whole graph: {})\n", why));
  };
}

}  // namespace halo
