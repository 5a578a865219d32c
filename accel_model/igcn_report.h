#pragma once
// The I-GCN estimate of one GCN on one graph, as `halo igcn` and `halo train` print it: islands
// and hubs, pruned aggregation, estimated latency on I-GCN and on the baseline accelerator, and
// the speedups against the measured CPU inference of the same model.
#include <torch/arg.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "accel_model/accel_config.h"
#include "datasets/dataset.h"
#include "gcn/model.h"
#include "partition/partition_dir.h"

namespace halo {

struct IgcnReport {
  nlohmann::json json;
  std::string text;  // a few lines, each ending in '\n'
};

struct IgcnOptions {
  TORCH_ARG(std::string, model_note) = "trained";  // where the model came from
  TORCH_ARG(AccelConfig, config) = default_accel_config();
  TORCH_ARG(std::string, spy_path);  // a spy plot is written there unless empty
  // Share of layer 0's inputs that are non-zero; unset: counted from the features. For data
  // sets shipped with fewer features than the paper used (PubMed here: 1,060 rows of 19,717).
  TORCH_ARG(std::optional<double>, input_density);
};

// `model` runs on the whole of `d` (its training state is restored afterwards). Throws
// UsageError unless `model` is a GCN taking d's features (I-GCN runs GCN layers only) or for an
// input density outside (0, 1].
IgcnReport igcn_report(const Dataset& d, Model model, const IgcnOptions& options = {});

// The estimate `halo train` ends with, of the whole graph. Made before training, called after
// it with the trained model; it loads the dataset again then (`load`), rather than keep the
// input features through training, where they would add to the peak memory (the Trainer
// aggregates them at set-up and keeps only the result). A model that is not a GCN gets a
// one-line note. A failed load loses only the estimate (a one-line note says why).
using TrainedEstimate = std::function<IgcnReport(const Model& trained)>;
TrainedEstimate igcn_after_training(std::function<Dataset()> load, const Model& model);
// Under mpirun, for rank `rank` (only rank 0 estimates; the others get null): the whole graph
// partitioned in `meta` (its dataset.source, as `halo igcn PARTITION_DIR` reads it) when it fits
// in memory and loads; otherwise part 0 alone (its inner nodes and the edges among them), and the
// text says so and why. `prepare` applies what training did to the features.
TrainedEstimate igcn_after_training(PartitionMeta meta, int rank, std::function<void(Dataset&)> prepare,
                                    const Model& model);

}  // namespace halo
