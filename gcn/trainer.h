#pragma once
// Trainer: full-graph training of a Model in one process -- Adam with weight decay, dropout,
// evaluation every N epochs, test accuracy reported at the best validation epoch, JSON-lines
// metrics, a progress line, checkpoints. Deterministic: dropout draws from counter-based
// streams keyed by (seed, epoch, layer, node, column), so the same seed gives bit-identical
// losses and a run resumed from a checkpoint continues exactly as an uninterrupted one.
#include <torch/arg.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/metrics_log.h"
#include "datasets/dataset.h"
#include "gcn/model.h"
#include "sampling/block.h"

namespace halo {

struct TrainerOptions {
  TORCH_ARG(int64_t, epochs) = 200;
  TORCH_ARG(double, lr) = 0.01;
  TORCH_ARG(double, weight_decay) = 5e-4;
  // Kipf & Welling's GCN decays only the first layer's weights; the GAT paper decays all.
  TORCH_ARG(bool, decay_first_layer_only) = false;
  TORCH_ARG(int64_t, eval_every) = 1;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(std::string, metrics_path) = "";    // JSON lines, one per epoch
  TORCH_ARG(std::string, checkpoint_dir) = "";  // written every checkpoint_every epochs and at the end
  TORCH_ARG(int64_t, checkpoint_every) = 0;
  TORCH_ARG(bool, progress) = true;  // a progress line on a terminal
};

struct Accuracy {
  double train = 0, val = 0, test = 0;
};

struct EpochMetrics {
  int64_t epoch = 0;
  double loss = 0;
  bool evaluated = false;
  Accuracy accuracy;
  double epoch_seconds = 0, forward_seconds = 0, backward_seconds = 0, optimizer_seconds = 0, eval_seconds = 0;
  int64_t peak_rss_bytes = 0;
  nlohmann::json to_json() const;
};

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  int64_t best_epoch = -1;  // epoch with the best validation accuracy (first one on ties)
  Accuracy at_best;         // accuracies at that epoch
  nlohmann::json to_json() const;
};

class Trainer {
 public:
  // Trains `model` on the whole of `data` (a copy of its tensors is kept; `data` may go).
  Trainer(const Dataset& data, Model model, const TrainerOptions& options);

  // Runs the epochs left (all of them, or those after a restored checkpoint).
  TrainResult train();
  // One training epoch (forward, loss, backward, Adam step), evaluating if it is due.
  EpochMetrics step();
  // Exact accuracies on the three splits (no dropout).
  Accuracy evaluate();

  // Model, optimizer and trainer state; written to temporary names and renamed, with
  // state.json (the manifest) last, so a directory with state.json is complete.
  void save_checkpoint(const std::string& dir) const;
  void load_checkpoint(const std::string& dir);

  int64_t epoch() const { return epoch_; }  // the next epoch to run
  Model model() const { return model_; }

 private:
  at::Tensor loss(const at::Tensor& logits) const;

  TrainerOptions options_;
  Block block_;
  at::Tensor features_, labels_, train_index_, val_index_, test_index_;
  Model model_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  MetricsLog metrics_;
  int64_t epoch_ = 0;
  TrainResult result_;
};

// Writes the model's parameters and buffers as a name -> tensor dictionary that Python's
// torch.load() reads.
void export_weights(const Model& model, const std::string& path);

}  // namespace halo
