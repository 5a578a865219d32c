#pragma once
// Trainer: full-graph training of a Model -- in one process on a whole Dataset, or as one rank
// of a distributed job on its Shard (DESIGN rules 2, 4, 6, 7). Adam with weight decay, dropout,
// evaluation every N epochs, test accuracy reported at the best validation epoch, JSON-lines
// metrics, a progress line, checkpoints. Deterministic: dropout draws from counter-based
// streams keyed by (seed, epoch, layer, node, column) with nodes named by their dataset ids, so
// K ranks draw exactly the masks one process draws, and a run resumed from a checkpoint
// continues exactly as an uninterrupted one.
//
// Distributed, each rank holds its Shard only: halo input features arrive once at set-up (layer 0
// never exchanges; by default its aggregation runs then too), layers >= 1 receive halo rows
// through one exchange each (halo_fill, whose backward returns halo gradients to their owners),
// the loss is the sum over local training nodes divided by the global count, weight gradients
// are summed over ranks (allreduce), and evaluation runs the same exchanges without dropout,
// summing correct counts over ranks.
//
// How an epoch gets its halo rows is a HaloSync chosen once from the options (train/halo_sync.h):
// the full halo, a BNS-GCN sample of it (boundary_rate, DESIGN rule 3), PipeGCN's one-epoch-stale
// rows and gradients (pipeline, rule 5), or both. Evaluation always uses the full halo.
#include <torch/arg.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/halo_exchange.h"
#include "core/caching_allocator.h"
#include "core/metrics_log.h"
#include "datasets/dataset.h"
#include "gcn/model.h"
#include "partition/shard.h"
#include "pipeline/stale_exchange.h"
#include "sampling/block.h"
#include "train/epoch_metrics.h"
#include "train/halo_sync.h"
#include "train/run_checkpoints.h"

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
  // Continue from the checkpoint in checkpoint_dir (and after its epochs in metrics_path).
  TORCH_ARG(bool, resume) = false;
  // Start afresh in a checkpoint_dir that holds something: the checkpoint there is deleted once
  // the run's first one is complete. Without it (or resume), a non-empty folder is refused.
  TORCH_ARG(bool, overwrite) = false;
  TORCH_ARG(bool, progress) = true;  // a progress line on a terminal (rank 0)
  // After every step, compare a fingerprint of the weights across ranks and fail if any differs.
  TORCH_ARG(bool, check_replicas) = false;
  // BNS-GCN's boundary rate p in [0, 1]: the share of its boundary nodes an owner sends each peer
  // per epoch. Unset: the full halo, without the sampler. p = 1 samples everything (the same
  // result); p = 0 trains the parts independently.
  TORCH_ARG(std::optional<double>, boundary_rate) = std::nullopt;
  // PipeGCN: exchange one-epoch-stale halo rows and gradients while computing (with smoothing
  // options); the first epoch runs synchronously.
  TORCH_ARG(std::optional<StaleOptions>, pipeline) = std::nullopt;
  // Exact halo rows, overlapped: each layer >= 1 computes its inner columns' part while its halo
  // rows travel (and, backward, its inner gradients while theirs travel). Not with pipeline.
  TORCH_ARG(bool, overlap) = false;
  // How halo rows and gradients travel in training (comm/halo_codec.h): fp32 (as they are),
  // bf16, fp16, or int8 with a scale per row and stochastic rounding. Evaluation stays exact.
  TORCH_ARG(HaloPrecision, halo_precision) = HaloPrecision::fp32;
  // Evaluation streams the full halo peer by peer (one round each, to the layers that add their
  // halo columns up) where the largest rank's halo rows at a layer's width take this many bytes
  // or more; below it one exchange costs less than the rounds' synchronisations.
  TORCH_ARG(int64_t, stream_halo_bytes) = int64_t{64} << 20;
  // DESIGN rule 4 (BNS-GCN's --use-pp): the first layer's aggregation of the fixed input features
  // runs once at set-up (GraphLayerImpl::precompute) and dropout applies to its result. Unset:
  // on when the first layer can precompute and the features are dense; sparse rows (bag-of-words)
  // already cost layer 0 only their non-zeros, which aggregation would multiply.
  TORCH_ARG(std::optional<bool>, precompute_input) = std::nullopt;
  // Where the model, features and graph ops live (cuda:N: a GPU). Distributed, a communicator on
  // another device is staged through its memory (comm/communicator.h, staged()).
  TORCH_ARG(at::Device, device) = at::kCPU;
  // Fields added to the first metrics line (the CLI puts the BLAS report there).
  TORCH_ARG(nlohmann::json, run_info) = nlohmann::json::object();
  // Called with the epoch number before every training epoch (schedules, logging, fault injection).
  TORCH_ARG(std::function<void(int64_t)>, before_epoch) = nullptr;
};

class Trainer {
 public:
  // Trains `model` on the whole of `data` in one process (a copy of its tensors is kept).
  Trainer(const Dataset& data, Model model, const TrainerOptions& options);
  // Rank comm->rank() of a distributed job trains on `shard`, its part of a partition into
  // comm->size() parts. Rank 0's initial weights are broadcast, so every rank starts alike.
  Trainer(const Shard& shard, std::shared_ptr<Communicator> comm, Model model, const TrainerOptions& options);

  // Runs the epochs left (all of them, or those after a restored checkpoint).
  TrainResult train();
  // One training epoch (forward, loss, backward, Adam step), evaluating if it is due.
  EpochMetrics step();
  // Exact accuracies on the three splits (no dropout), over the whole graph.
  Accuracy evaluate();
  // Exact inference (eval mode, full halo) for this rank's rows: the logits and, if `layer` is
  // given (< the model's layers - 1), that hidden layer's output (Model::hidden_output).
  struct Inference {
    at::Tensor logits, hidden;
  };
  Inference infer(std::optional<int64_t> layer = std::nullopt);
  // The accuracies on the three splits of logits for this rank's rows (infer()'s), over all ranks.
  Accuracy accuracy(const at::Tensor& logits);

  // Model, optimizer, HaloSync and run state in checkpoint_dir, and back (train/run_checkpoints.h).
  void save_checkpoint();
  void load_checkpoint(const std::string& dir);

  int64_t epoch() const { return epoch_; }  // the next epoch to run
  Input input() const { return input_; }    // what the first layer reads (precompute_input)
  Model model() const { return model_; }
  bool distributed() const { return comm_ != nullptr; }
  bool leader() const { return !comm_ || comm_->rank() == 0; }  // writes metrics and checkpoints
  const HaloSync& halo_sync() const { return *sync_; }

 private:
  void set_up();
  void precompute_input();
  at::Tensor loss(const at::Tensor& logits) const;
  double allreduce_gradients(double local_loss);
  RunState run_state() { return {model_, *optimizer_, *sync_, epoch_, result_}; }

  CachingAllocatorScope allocator_;  // first: every epoch allocates the same large tensors again
  TrainerOptions options_;
  std::shared_ptr<Communicator> comm_;      // null in one process
  std::unique_ptr<HaloExchange> exchange_;  // the full halo's (null in one process)
  std::unique_ptr<Block> block_;
  // [columns, F]: inner rows, then halo rows; dense or sparse rows. Precomputed: [rows, P].
  at::Tensor features_;
  Input input_ = Input::features;
  std::unique_ptr<HaloSync> sync_;
  at::Tensor labels_, train_index_, val_index_, test_index_;  // over rows
  int64_t global_train_ = 0, global_val_ = 0, global_test_ = 0;
  Model model_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<RunCheckpoints> checkpoints_;
  MetricsLog metrics_;  // rank 0's, opened at the end of set-up
  int64_t epoch_ = 0;
  TrainResult result_;
};

}  // namespace halo
