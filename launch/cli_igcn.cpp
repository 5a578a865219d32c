// `halo igcn`: the I-GCN accelerator estimate (accel_model/) of a model on a whole dataset.
#include <fmt/format.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>

#include "gcn/checkpoint_model.h"
#include "accel_model/igcn_report.h"
#include "core/error.h"
#include "datasets/dataset_source.h"
#include "launch/cli_checks.h"
#include "launch/cli_common.h"
#include "partition/partition_dir.h"

namespace halo::cli {

namespace {

// A partition directory stands for the whole dataset it was cut from (meta.json's
// dataset.source), checked to be the very dataset partitioned.
Dataset whole_dataset(const std::string& spec) {
  if (!std::filesystem::exists(std::filesystem::path(spec) / "meta.json")) return load_dataset(spec);
  return load_partition_source(read_partition_meta(spec));
}

// The --accel file holds options, like --config: whatever is wrong with it (missing, not JSON, a
// value out of range) is a usage error (exit 2); load_accel_config reports some as runtime errors.
AccelConfig accel_config(const std::string& path) {
  try {
    return load_accel_config(path);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

}  // namespace

void add_igcn_command(CLI::App& app) {
  struct Args {
    std::string spec, model, accel, spy;
    std::optional<double> input_density;
    bool normalize_features = false, json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand(
      "igcn", "Islandize a graph and estimate I-GCN inference latency and speedup (Geng et al., MICRO 2021)");
  cmd->add_option("dataset", a.spec, "Dataset (path, preset, folder under $HALO_DATA) or a partition directory")
      ->required();
  cmd->add_option("--model", a.model,
                  "Checkpoint directory of a trained model (default: a freshly initialised 2-layer GCN, hidden 16, "
                  "whose hidden activations are not those of a trained model)");
  cmd->add_option("--accel", a.accel, "Accelerator configuration JSON (default: accel_model/igcn_default.json)");
  cmd->add_option("--spy", a.spy, "Write a PNG spy plot of the adjacency in island order");
  number_in(cmd->add_option("--input-density", a.input_density,
                            "Share of layer 0's inputs that are non-zero (default: counted from the features; the "
                            "paper's PubMed has 0.1, the shipped one features for 1,060 of its nodes only)"),
            1e-6, 1);
  cmd->add_flag("--normalize-features", a.normalize_features, "Row-normalise the input features, as in training");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
  cmd->footer(
      "What each line says:\n"
      "  islands, hubs     groups of non-hub nodes joined to the rest only through hubs; hubs and their edges\n"
      "  island sizes      share of islands in each size range\n"
      "  rounds, tasks     the locator's rounds (hub threshold decaying), its BFS tasks, those dropped (a\n"
      "                    conflict or past c_max) and the adjacency entries they read, read again later\n"
      "  aggregation pruned  share of A + I's vector operations the window rule removes, the window sums\n"
      "                    counted in combination (the paper's count) or in aggregation\n"
      "  prunes at most    the most any islands and column order could prune on this graph, both counts\n"
      "  layer L           widths; non-zero share of the input (\"given\": --input-density); combination\n"
      "                    MACs (non-zero inputs x output width) and the window sums' additions;\n"
      "                    aggregation MACs without and with the window rule\n"
      "  latency           per layer the larger of compute (MACs / (MAC units x clock) / utilisation, the\n"
      "                    utilisation fitted to the paper's Table 2 on Cora and PubMed) and off-chip\n"
      "                    bytes / bandwidth (only a working set larger than the on-chip buffer goes off\n"
      "                    chip), summed over layers\n"
      "  this CPU          Halo's own inference of the same model here: warm, median of 21 or more runs\n"
      "  speedup           this CPU's time and the baseline's (AWB-GCN's) latency over I-GCN's");
  cmd->callback([] {
    const AccelConfig config = a.accel.empty() ? default_accel_config() : accel_config(a.accel);
    Dataset d = whole_dataset(a.spec);
    if (a.normalize_features) d.features = row_normalized(d.features);
    Model model{nullptr};
    IgcnOptions options = IgcnOptions().config(config).spy_path(a.spy).input_density(a.input_density);
    if (a.model.empty()) {
      torch::manual_seed(0);
      model = Model(ModelOptions().in_features(d.num_features()).out_features(d.num_classes));
      options.model_note("freshly initialised");
    } else {
      model = load_checkpoint_model(a.model);
    }
    const IgcnReport r = igcn_report(d, model, options);
    emit(a.json, r.json, r.text + (a.spy.empty() ? "" : fmt::format("  spy plot: {}\n", a.spy)));
  });
}

}  // namespace halo::cli
