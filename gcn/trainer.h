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
// With a boundary rate p (BNS-GCN, DESIGN rule 3) each training epoch draws a sample of the halo
// (BoundarySampler) and computes on the Block over the inner and sampled halo nodes: layers >= 1
// exchange only the sampled rows, scaled by 1 / ratio. Layer 0 takes the sampled rows of the
// input features, scaled alike, unless its aggregation was precomputed over the full halo (then,
// as BNS-GCN with --use-pp, it is exact). Evaluation always uses the full halo.
//
// With the pipeline (PipeGCN, DESIGN rule 5) layers >= 1 compute with halo rows one epoch old
// while this epoch's travel, and gradients likewise (StaleExchange); evaluation stays exact
// and synchronous.
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
#include "gcn/checkpoint.h"
#include "gcn/model.h"
#include "partition/shard.h"
#include "pipeline/stale_exchange.h"
#include "sampling/block.h"
#include "sampling/boundary_sampler.h"

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

struct Accuracy {
  double train = 0, val = 0, test = 0;
};

// Spread of one quantity over the ranks (in one process: max = mean = the value).
struct RankSpread {
  double max = 0, mean = 0;
};

struct EpochMetrics {
  int64_t epoch = 0;
  double loss = 0;
  bool evaluated = false;
  Accuracy accuracy;
  // This rank's times; epoch_seconds is the training step, without the evaluation (eval_seconds).
  // exchange: inside halo exchanges during forward and backward; allreduce:
  // the gradient allreduce; compute: forward + backward + optimizer minus exchange.
  double epoch_seconds = 0, forward_seconds = 0, backward_seconds = 0, optimizer_seconds = 0, eval_seconds = 0;
  double exchange_seconds = 0, allreduce_seconds = 0, compute_seconds = 0;
  double sample_seconds = 0;  // BNS: drawing the sample and building its Block (part of forward)
  // Communication of the training exchanges: seconds waited for messages (exposed) and seconds
  // the messages were in flight (total); the pipeline hides the difference behind computation.
  double exposed_comm_seconds = 0, total_comm_seconds = 0;
  int64_t bytes_sent = 0, messages_sent = 0, peak_rss_bytes = 0;
  int64_t halo_rows = 0;  // halo nodes the epoch computed with (sampled ones under BNS)
  // Over all ranks.
  int ranks = 1;
  RankSpread epoch_spread, compute_spread, exchange_spread, allreduce_spread, bytes_spread, rss_spread, halo_spread,
      exposed_spread, total_comm_spread;
  // Each rank's compute, exposed communication and allreduce seconds (the epoch-time breakdown).
  std::vector<double> compute_by_rank, exposed_by_rank, allreduce_by_rank;
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

  // Model, optimizer and trainer state in checkpoint_dir (gcn/checkpoint.h): written to
  // temporary names and renamed, with state.json (the manifest, with every file's size and
  // checksum) last, so a directory with state.json is complete; the checkpoint it replaces is
  // deleted after. Distributed, rank 0 writes the weights (the same on every rank) and each rank
  // its pipeline state (the rows and gradients in flight), and every rank reads: a resumed run,
  // pipelined or not, continues bit for bit.
  void save_checkpoint();
  void load_checkpoint(const std::string& dir);

  int64_t epoch() const { return epoch_; }  // the next epoch to run
  Input input() const { return input_; }    // what the first layer reads (precompute_input)
  Model model() const { return model_; }
  bool distributed() const { return comm_ != nullptr; }
  bool leader() const { return !comm_ || comm_->rank() == 0; }  // writes metrics and checkpoints

 private:
  void set_up();
  void precompute_input();
  // Logits of this rank's rows on `block`; `fill` (empty in one process) gives layers >= 1 their
  // halo rows.
  at::Tensor forward(const Block& block, const at::Tensor& features, const HaloFill& fill, uint64_t key);
  // The synchronous fill through `exchange`, whose plan's halo columns are the Block's.
  HaloFill exchange_fill(HaloExchange& exchange, const at::Tensor& scale, const std::string& phase);
  // Draws this epoch's sample into sample_ and fills sampled_block_, sampled_features_ and the
  // sampled exchange.
  void draw_sample();
  at::Tensor loss(const at::Tensor& logits) const;
  double allreduce_gradients(double local_loss);
  void check_replicas();
  // `t` (host memory) reduced over the ranks on the communicator's device; back on the host.
  at::Tensor over_ranks(const at::Tensor& t, ReduceOp op, const std::string& what) const;
  void spread_over_ranks(EpochMetrics& m) const;

  CachingAllocatorScope allocator_;  // first: every epoch allocates the same large tensors again
  TrainerOptions options_;
  std::shared_ptr<Communicator> comm_;      // null in one process
  std::unique_ptr<HaloExchange> exchange_;  // null in one process
  std::unique_ptr<Block> block_;
  // [columns, F]: inner rows, then halo rows; dense or sparse rows. Precomputed: [rows, P].
  at::Tensor features_;
  Input input_ = Input::features;
  // BNS-GCN (null without a boundary rate): the sampler, and this epoch's Block, input rows
  // (dense ones allocated once: the sample's size is fixed by p) and exchange.
  std::unique_ptr<BoundarySampler> sampler_;
  BoundarySample sample_;
  std::unique_ptr<Block> sampled_block_;
  at::Tensor sampled_features_;
  std::unique_ptr<HaloExchange> sampled_exchange_;
  std::unique_ptr<StaleExchange> stale_;                      // PipeGCN (null without the pipeline)
  at::Tensor labels_, train_index_, val_index_, test_index_;  // over rows
  int64_t global_train_ = 0, global_val_ = 0, global_test_ = 0;
  Model model_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<CheckpointFolder> checkpoints_;  // rank 0's claim on checkpoint_dir
  MetricsLog metrics_;                             // rank 0's, opened at the end of set-up
  int64_t epoch_ = 0;
  TrainResult result_;
};

// Writes the model's parameters and buffers as a name -> tensor dictionary that Python's
// torch.load() reads.
void export_weights(const Model& model, const std::string& path);

}  // namespace halo
