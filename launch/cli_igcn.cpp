// `halo igcn`: the I-GCN accelerator estimate (accel_model/) of a model on a whole dataset.
#include <fmt/format.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "accel_model/checkpoint_model.h"
#include "accel_model/igcn_report.h"
#include "core/error.h"
#include "datasets/dataset_source.h"
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
  cmd->add_flag("--normalize-features", a.normalize_features, "Row-normalise the input features, as in training");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
  cmd->callback([] {
    const AccelConfig config = a.accel.empty() ? default_accel_config() : accel_config(a.accel);
    Dataset d = whole_dataset(a.spec);
    if (a.normalize_features) d.features = row_normalized(d.features);
    Model model{nullptr};
    std::string note;
    if (a.model.empty()) {
      torch::manual_seed(0);
      model = Model(ModelOptions().in_features(d.num_features()).out_features(d.num_classes));
      note = "freshly initialised";
    } else {
      model = load_checkpoint_model(a.model);
      note = "trained";
    }
    const IgcnReport r = igcn_report(d, model, note, config, a.spy);
    emit(a.json, r.json, r.text + (a.spy.empty() ? "" : fmt::format("  spy plot: {}\n", a.spy)));
  });
}

}  // namespace halo::cli
