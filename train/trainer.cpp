#include "train/trainer.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <optional>

#include "core/counter_rng.h"
#include "core/error.h"
#include "core/index_tensor.h"
#include "core/progress.h"
#include "core/resources.h"
#include "gcn/sparse_features.h"
#include "sampling/shard_block.h"
#include "train/optimizer.h"
#include "train/replicas.h"

namespace halo {
namespace {

at::Tensor index_of(const at::Tensor& mask) { return mask.nonzero().flatten(); }

}  // namespace

Trainer::Trainer(const Dataset& data, Model model, const TrainerOptions& options)
    : options_(options),
      block_(std::make_unique<Block>(Block::whole_graph(data.graph))),
      features_(data.features.contiguous()),
      labels_(data.labels),
      train_index_(index_of(data.train_mask)),
      val_index_(index_of(data.val_mask)),
      test_index_(index_of(data.test_mask)),
      model_(std::move(model)) {
  if (options_.boundary_rate() || options_.pipeline() || options_.overlap() ||
      options_.halo_precision() != HaloPrecision::fp32) {
    throw UsageError(
        "boundary sampling, the pipeline, the overlap and the halo precision need a distributed run on a partition "
        "(halo train --parts DIR)");
  }
  set_up();
  if (global_train_ == 0) throw Error(fmt::format("{}: no training nodes", data.name));
}

Trainer::Trainer(const Shard& shard, std::shared_ptr<Communicator> comm, Model model, const TrainerOptions& options)
    : options_(options),
      comm_(comm->device() == options.device() ? std::move(comm) : staged(std::move(comm), options.device())),
      labels_(shard.labels),
      train_index_(index_of(shard.train_mask)),
      val_index_(index_of(shard.val_mask)),
      test_index_(index_of(shard.test_mask)),
      model_(std::move(model)) {
  if (shard.num_parts != comm_->size() || shard.part != comm_->rank()) {
    throw UsageError(fmt::format("rank {} of {} was given part {} of a partition into {} parts; run {} ranks",
                                 comm_->rank(), comm_->size(), shard.part, shard.num_parts, shard.num_parts));
  }
  HaloPlan plan = HaloPlan::from_shard(shard);
  plan.check(fmt::format("part {}", shard.part));
  exchange_ = std::make_unique<HaloExchange>(std::move(plan), comm_);
  // DESIGN rule 4: the input features are fixed, so their halo rows travel once, here, and
  // layer 0 aggregates over the full halo without an exchange (once, in set_up(), or every
  // epoch). The dataset ids of the halo nodes travel too: they key dropout.
  const at::Tensor inner_ids = index_tensor(shard.inner_original_ids);
  const at::Device device = options_.device();
  const at::Tensor halo_ids =
      exchange_->bcast(inner_ids.unsqueeze(1).to(device), 0, "set-up, node ids").flatten().cpu();
  // The halo rows land in place behind the inner ones: no second copy of the widest input.
  features_ = exchange_->bcast_columns(shard.features.to(device).contiguous(), 0, "set-up, input features");
  const at::Tensor ids = at::cat({inner_ids, halo_ids});
  block_ = std::make_unique<Block>(
      shard_block(shard, std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel())));
  set_up();
  if (global_train_ == 0) throw Error(fmt::format("{}: no training nodes in any part", shard.dataset));
  broadcast_weights(model_, *comm_);
}

void Trainer::set_up() {
  const TrainerOptions& o = options_;
  const at::Device device = o.device();
  block_->to(device);
  features_ = features_.to(device);
  labels_ = labels_.to(device);
  train_index_ = train_index_.to(device);
  val_index_ = val_index_.to(device);
  test_index_ = test_index_.to(device);
  model_->to(device);
  // Mostly-zero input features (bag-of-words) reach layer 0 as sparse rows: the same results,
  // in time and memory proportional to the non-zeros.
  features_ = layer_input(features_, model_->takes_sparse_input());
  if (o.precompute_input().value_or(model_->precomputes_input() && !is_sparse_rows(features_))) precompute_input();
  sync_ = exchange_ ? distributed_sync(*block_, features_, input_ == Input::precomputed, *exchange_, comm_,
                                       {o.boundary_rate(), o.pipeline(), o.overlap(), o.halo_precision(), o.seed(),
                                        device, o.stream_halo_bytes()})
                    : local_sync(*block_, features_);
  if (o.epochs() < 0 || o.eval_every() < 1 || o.lr() <= 0 || o.weight_decay() < 0) {
    throw UsageError(
        fmt::format("trainer: epochs ({}) must be >= 0, eval_every ({}) >= 1, lr ({}) > 0, weight_decay ({}) >= 0",
                    o.epochs(), o.eval_every(), o.lr(), o.weight_decay()));
  }
  // An unusable, busy or occupied checkpoint folder fails now, not after epochs of training.
  checkpoints_ = std::make_unique<RunCheckpoints>(o.checkpoint_dir(), o.seed(), o.resume(), o.overwrite(), comm_.get());
  const at::Tensor counts =
      over_ranks(comm_.get(), at::tensor({train_index_.numel(), val_index_.numel(), test_index_.numel()}, at::kLong),
                 ReduceOp::sum, "set-up, split sizes");
  global_train_ = counts[0].item<int64_t>();
  global_val_ = counts[1].item<int64_t>();
  global_test_ = counts[2].item<int64_t>();
  optimizer_ = adam(*model_, o.lr(), o.weight_decay(), o.decay_first_layer_only());
  if (o.resume()) {
    if (o.checkpoint_dir().empty()) throw UsageError("trainer: resume needs a checkpoint_dir");
    load_checkpoint(o.checkpoint_dir());
  }
  // A resumed run's metrics continue its log after the checkpoint's last epoch.
  if (leader()) {
    metrics_ = o.resume() ? MetricsLog::continued(o.metrics_path(), epoch_ - 1) : MetricsLog(o.metrics_path());
  }
}

// Layer 0's aggregation over the full halo, once. Its result replaces the input features:
// sparse rows again if they stay mostly zero and the layer takes them.
void Trainer::precompute_input() {
  if (!model_->precomputes_input()) {
    throw UsageError(
        fmt::format("--precompute-input: the first layer ({}) has no parameter-free aggregation to precompute",
                    model_->layer(0)->name()));
  }
  Stopwatch clock;
  features_ = layer_input(model_->precompute_input(*block_, features_), model_->takes_sparse_input());
  input_ = Input::precomputed;
  if (leader()) {
    spdlog::info("layer 0: input aggregated once at set-up, {} x {} ({:.2f} s)", features_.size(0), features_.size(1),
                 clock.seconds());
  }
}

// DESIGN rule 7: the sum of the per-node losses over the global number of training nodes; each
// rank sums its own nodes, and the gradient allreduce adds the ranks' parts.
at::Tensor Trainer::loss(const at::Tensor& logits) const {
  const at::Tensor sum = at::cross_entropy_loss(logits.index_select(0, train_index_),
                                                labels_.index_select(0, train_index_), {}, at::Reduction::Sum);
  return sum / static_cast<double>(global_train_);
}

// Sums the weight gradients (and the loss, riding in the same message) over the ranks; returns
// the global loss.
double Trainer::allreduce_gradients(double local_loss) {
  if (!comm_) return local_loss;
  std::vector<at::Tensor> parts;
  const std::vector<at::Tensor> params = model_->parameters();
  for (const at::Tensor& p : params)
    parts.push_back(p.grad().defined() ? p.grad().flatten() : at::zeros_like(p).flatten());
  parts.push_back(at::tensor({local_loss}, parts.front().options()));
  at::Tensor flat = at::cat(parts);
  comm_->allreduce(flat, ReduceOp::sum, fmt::format("epoch {}, weight gradients", epoch_));
  int64_t offset = 0;
  for (const at::Tensor& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    p.mutable_grad().copy_(flat.narrow(0, offset, p.numel()).view_as(p));
    offset += p.numel();
  }
  return flat[offset].item<double>();
}

Trainer::Inference Trainer::infer(std::optional<int64_t> layer) {
  if (layer && (*layer < 0 || *layer >= model_->num_layers() - 1)) {
    throw UsageError(
        fmt::format("hidden layer {}: the model's hidden layers are 0 to {}", *layer, model_->num_layers() - 2));
  }
  torch::NoGradGuard no_grad;
  model_->eval();
  const EpochHalo halo = sync_->exact(fmt::format("epoch {} evaluation", epoch_));
  Inference result;
  HaloFill fill = halo.fill;
  HaloPost post = halo.post;
  // The rows go to the next layer by its fill or its post: both pass them by here.
  const auto keep = [&](const at::Tensor& h, int l) {
    if (l == *layer + 1) result.hidden = model_->hidden_output(*layer, h).clone();
  };
  if (layer) {
    fill = [&](const at::Tensor& h, int l) {
      keep(h, l);
      return halo.fill ? halo.fill(h, l) : h;
    };
    if (post) {
      post = [&](const at::Tensor& h, int l) {
        keep(h, l);
        return halo.post(h, l);
      };
    }
  }
  result.logits = model_->forward(*halo.block, halo.input, 0, fill, input_, post);
  model_->train();
  return result;
}

Accuracy Trainer::evaluate() { return accuracy(infer().logits); }

Accuracy Trainer::accuracy(const at::Tensor& logits) {
  const at::Tensor predicted = logits.argmax(1);
  auto correct = [&](const at::Tensor& index) {
    return predicted.index_select(0, index).eq(labels_.index_select(0, index)).sum().item<int64_t>();
  };
  const at::Tensor counts =
      over_ranks(comm_.get(), at::tensor({correct(train_index_), correct(val_index_), correct(test_index_)}, at::kLong),
                 ReduceOp::sum, fmt::format("epoch {} evaluation, correct counts", epoch_));
  auto share = [](int64_t c, int64_t n) { return n == 0 ? 0.0 : static_cast<double>(c) / static_cast<double>(n); };
  return {share(counts[0].item<int64_t>(), global_train_), share(counts[1].item<int64_t>(), global_val_),
          share(counts[2].item<int64_t>(), global_test_)};
}

EpochMetrics Trainer::step() {
  EpochMetrics m;
  m.epoch = epoch_;
  m.halo_sync = sync_->name();
  Stopwatch epoch_clock, clock;
  model_->train();
  const EpochHalo halo = sync_->begin_epoch(epoch_);
  m.sample_seconds = clock.seconds();
  m.halo_rows = halo.block->num_cols() - halo.block->num_rows();
  const at::Tensor loss = this->loss(
      model_->forward(*halo.block, halo.input, stream_key(options_.seed(), epoch_), halo.fill, input_, halo.post));
  m.forward_seconds = clock.seconds();
  clock = Stopwatch();
  optimizer_->zero_grad();
  loss.backward();
  m.backward_seconds = clock.seconds();
  clock = Stopwatch();
  m.loss = allreduce_gradients(loss.item<double>());
  // The loss is summed over the ranks, so every rank sees a divergence and stops at this epoch.
  if (!std::isfinite(m.loss)) {
    throw Error(
        fmt::format("epoch {}: the training loss is {}; the run diverged (try a smaller --lr)", epoch_, m.loss));
  }
  m.allreduce_seconds = clock.seconds();
  sync_->after_allreduce();
  clock = Stopwatch();
  optimizer_->step();
  m.optimizer_seconds = clock.seconds();
  m.add_exchanges(sync_->counters(), sync_->counters_by_layer(), model_->num_layers());
  m.compute_seconds = m.forward_seconds + m.backward_seconds + m.optimizer_seconds - m.exchange_seconds;
  if (comm_ && options_.check_replicas()) check_replicas(model_, *comm_, epoch_);
  m.epoch_seconds = epoch_clock.seconds();
  if ((epoch_ + 1) % options_.eval_every() == 0 || epoch_ + 1 == options_.epochs()) {
    clock = Stopwatch();
    m.accuracy = evaluate();
    m.evaluated = true;
    m.eval_seconds = clock.seconds();
    result_.note_evaluation(m);
  }
  m.peak_rss_bytes = peak_rss_bytes();
  spread_over_ranks(m, comm_.get());
  ++epoch_;
  return m;
}

TrainResult Trainer::train() {
  // What set-up and the caller's loading freed (the features before the precompute, the shard's
  // graph) goes back to the system: set-up's peak would otherwise bound the cache in every epoch,
  // and the heap would keep the shard's pages.
  release_cached_blocks();
  trim_heap();
  result_.epochs.clear();
  std::optional<Progress> progress;
  if (options_.progress() && leader()) progress.emplace("train", options_.epochs() - epoch_);
  while (epoch_ < options_.epochs()) {
    if (options_.before_epoch()) options_.before_epoch()(epoch_);
    const bool first = result_.epochs.empty();
    const EpochMetrics m = step();
    nlohmann::json record = m.to_json();
    if (first) record.update(options_.run_info());
    metrics_.write(record);
    result_.epochs.push_back(m);
    if (progress) {
      progress->note(m.progress_note());
      progress->advance();
    }
    const bool due = options_.checkpoint_every() > 0 && epoch_ % options_.checkpoint_every() == 0;
    if (!options_.checkpoint_dir().empty() && (due || epoch_ == options_.epochs())) {
      save_checkpoint();
    }
  }
  sync_->drain();  // the last epoch's messages: nothing is left in flight at the end
  if (progress) progress->finish();
  const CachingAllocatorStats a = caching_allocator_stats();
  spdlog::debug("large CPU tensors: {} served from freed memory, {} mapped afresh; {:.0f} MiB kept free", a.hits,
                a.misses, a.cached_bytes / 1048576.0);
  return result_;
}

void Trainer::save_checkpoint() { checkpoints_->save(run_state()); }

void Trainer::load_checkpoint(const std::string& dir) { checkpoints_->load(dir, run_state()); }

}  // namespace halo
