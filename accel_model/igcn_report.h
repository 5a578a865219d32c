#pragma once
// The I-GCN estimate of one GCN on one graph, as `halo igcn` and `halo train` print it: islands
// and hubs, pruned aggregation, estimated latency on I-GCN and on the baseline accelerator, and
// the speedups against the measured CPU inference of the same model.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "accel_model/accel_config.h"
#include "datasets/dataset.h"
#include "gcn/model.h"
#include "partition/shard.h"

namespace halo {

struct IgcnReport {
  nlohmann::json json;
  std::string text;  // a few lines, each ending in '\n'
};

// `model` runs on the whole of `d` (its training state is restored afterwards); `model_note`
// says where it came from ("trained", "freshly initialised"). Writes the spy plot to
// `spy_path` unless it is empty. Throws UsageError unless `model` is a GCN taking d's features:
// I-GCN runs GCN layers only.
IgcnReport igcn_report(const Dataset& d, Model model, const std::string& model_note,
                       const AccelConfig& config = default_accel_config(), const std::string& spy_path = "");

// The estimate `halo train` ends with. Made before training, called after it with the trained
// model. In one process it loads the dataset again then (`load`), rather than keep the input
// features through training, where they would add to the peak memory (the Trainer aggregates
// them at set-up and keeps only the result). Under mpirun only part 0 is kept (rank 0 prints),
// and it covers part 0 alone:
// its inner nodes and the edges among them, as the text says; `halo igcn PARTITION_DIR --model
// CHECKPOINT` estimates the whole graph. A model that is not a GCN gets a one-line note, and
// nothing is kept for it while it trains.
using TrainedEstimate = std::function<IgcnReport(const Model& trained)>;
TrainedEstimate igcn_after_training(std::function<Dataset()> load, const Model& model);
TrainedEstimate igcn_after_training(Shard part, const Model& model);

}  // namespace halo
