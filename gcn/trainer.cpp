#include "gcn/trainer.h"

#include <ATen/Functions.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/counter_rng.h"
#include "core/error.h"
#include "core/index_tensor.h"
#include "core/progress.h"
#include "core/resources.h"
#include "gcn/halo_fill.h"
#include "gcn/sparse_features.h"
#include "sampling/shard_block.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

std::string pipeline_file(int rank) { return fmt::format("pipeline-{}.pt", rank); }

at::Tensor index_of(const at::Tensor& mask) { return mask.nonzero().flatten(); }

// One group with weight decay, and (when only the first layer is decayed) one without.
std::vector<torch::optim::OptimizerParamGroup> parameter_groups(const ModelImpl& model, const TrainerOptions& o) {
  auto adam = [&](double decay) {
    return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(o.lr()).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!o.decay_first_layer_only()) {
    groups.emplace_back(model.parameters(), adam(o.weight_decay()));
    return groups;
  }
  const std::vector<at::Tensor> first = model.layer(0)->parameters();
  std::vector<at::Tensor> rest;
  for (const at::Tensor& p : model.parameters()) {
    if (std::none_of(first.begin(), first.end(), [&](const at::Tensor& f) { return f.is_same(p); })) rest.push_back(p);
  }
  groups.emplace_back(first, adam(o.weight_decay()));
  if (!rest.empty()) groups.emplace_back(rest, adam(0.0));
  return groups;
}

}  // namespace

nlohmann::json EpochMetrics::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"loss", loss},
                      {"ranks", ranks},
                      {"forward_seconds", forward_seconds},
                      {"backward_seconds", backward_seconds},
                      {"optimizer_seconds", optimizer_seconds},
                      {"sample_seconds", sample_seconds}};
  // Over ranks: the max is what the job waits for, the mean shows the imbalance.
  auto spread = [&](const std::string& name, const RankSpread& s) {
    j[name] = s.max;
    j[name + "_mean"] = s.mean;
  };
  spread("epoch_seconds", epoch_spread);
  spread("compute_seconds", compute_spread);
  spread("exchange_seconds", exchange_spread);
  spread("allreduce_seconds", allreduce_spread);
  spread("bytes_sent", bytes_spread);
  spread("peak_rss_bytes", rss_spread);
  spread("halo_rows", halo_spread);
  spread("exposed_comm_seconds", exposed_spread);
  spread("total_comm_seconds", total_comm_spread);
  j["by_rank"] = {{"compute_seconds", compute_by_rank},
                  {"exposed_comm_seconds", exposed_by_rank},
                  {"allreduce_seconds", allreduce_by_rank}};
  if (evaluated) {
    j["train_acc"] = accuracy.train;
    j["val_acc"] = accuracy.val;
    j["test_acc"] = accuracy.test;
    j["eval_seconds"] = eval_seconds;
  }
  return j;
}

nlohmann::json TrainResult::to_json() const {
  return {{"epochs", static_cast<int64_t>(epochs.size())},
          {"best_epoch", best_epoch},
          {"best_val_acc", at_best.val},
          {"test_acc_at_best_val", at_best.test},
          {"train_acc_at_best_val", at_best.train},
          {"final_loss", epochs.empty() ? 0.0 : epochs.back().loss}};
}

Trainer::Trainer(const Dataset& data, Model model, const TrainerOptions& options)
    : options_(options),
      block_(std::make_unique<Block>(Block::whole_graph(data.graph))),
      features_(data.features.contiguous()),
      labels_(data.labels),
      train_index_(index_of(data.train_mask)),
      val_index_(index_of(data.val_mask)),
      test_index_(index_of(data.test_mask)),
      model_(std::move(model)) {
  if (options_.boundary_rate() || options_.pipeline()) {
    throw UsageError(
        "boundary sampling and the pipeline need a distributed run on a partition (halo train --parts DIR)");
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
  const at::Tensor features = shard.features.to(device).contiguous();
  features_ = at::cat({features, exchange_->bcast(features, 0, "set-up, input features")});
  const at::Tensor ids = at::cat({inner_ids, halo_ids});
  block_ = std::make_unique<Block>(
      shard_block(shard, std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel())));
  if (options_.boundary_rate()) {
    sampler_ = std::make_unique<BoundarySampler>(exchange_->plan(), *options_.boundary_rate(), options_.seed());
    if (!options_.pipeline()) sampled_exchange_ = std::make_unique<HaloExchange>(exchange_->plan(), comm_);
  }
  if (options_.pipeline()) {
    stale_ = std::make_unique<StaleExchange>(exchange_->plan(), comm_, sampler_.get(), *options_.pipeline());
  }
  set_up();
  if (global_train_ == 0) throw Error(fmt::format("{}: no training nodes in any part", shard.dataset));
  // Like DistributedDataParallel: every rank starts from rank 0's weights, whatever its seed.
  torch::NoGradGuard no_grad;
  for (at::Tensor p : model_->parameters()) {
    at::Tensor flat = p.detach().contiguous();
    comm_->broadcast(flat, 0, "set-up, initial weights");
    p.detach().copy_(flat);
  }
  for (at::Tensor b : model_->buffers()) {
    at::Tensor flat = b.contiguous();
    comm_->broadcast(flat, 0, "set-up, initial buffers");
    b.copy_(flat);
  }
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
  // in time and memory proportional to the non-zeros. (A CPU format: GPUs keep them dense.)
  if (device.is_cpu() && model_->takes_sparse_input() && nonzero_share(features_) <= kSparseInputShare) {
    features_ = sparse_rows(features_);
  }
  if (o.precompute_input().value_or(model_->precomputes_input() && !is_sparse_rows(features_))) precompute_input();
  if (o.epochs() < 0 || o.eval_every() < 1 || o.lr() <= 0 || o.weight_decay() < 0) {
    throw UsageError(
        fmt::format("trainer: epochs ({}) must be >= 0, eval_every ({}) >= 1, lr ({}) > 0, weight_decay ({}) >= 0",
                    o.epochs(), o.eval_every(), o.lr(), o.weight_decay()));
  }
  // An unusable, busy or occupied checkpoint folder fails now, not after epochs of training.
  if (!o.checkpoint_dir().empty() && leader()) {
    checkpoints_ = std::make_unique<CheckpointFolder>(o.checkpoint_dir(), o.resume(), o.overwrite());
  }
  const at::Tensor counts =
      over_ranks(at::tensor({train_index_.numel(), val_index_.numel(), test_index_.numel()}, at::kLong), ReduceOp::sum,
                 "set-up, split sizes");
  global_train_ = counts[0].item<int64_t>();
  global_val_ = counts[1].item<int64_t>();
  global_test_ = counts[2].item<int64_t>();
  optimizer_ = std::make_unique<torch::optim::Adam>(parameter_groups(*model_, o), torch::optim::AdamOptions(o.lr()));
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
  features_ = model_->precompute_input(*block_, features_);
  if (features_.is_cpu() && model_->takes_sparse_input() && nonzero_share(features_) <= kSparseInputShare) {
    features_ = sparse_rows(features_);
  }
  input_ = Input::precomputed;
  if (leader()) {
    spdlog::info("layer 0: input aggregated once at set-up, {} x {} ({:.2f} s)", features_.size(0), features_.size(1),
                 clock.seconds());
  }
}

at::Tensor Trainer::over_ranks(const at::Tensor& t, ReduceOp op, const std::string& what) const {
  if (!comm_) return t;
  at::Tensor on_device = t.to(comm_->device());
  comm_->allreduce(on_device, op, what);
  return on_device.cpu();
}

at::Tensor Trainer::forward(const Block& block, const at::Tensor& features, const HaloFill& fill, uint64_t key) {
  return model_->forward(block, features, key, fill, input_);
}

HaloFill Trainer::exchange_fill(HaloExchange& exchange, const at::Tensor& scale, const std::string& phase) {
  return [this, &exchange, scale, phase](const at::Tensor& rows, int layer) {
    return halo_fill(exchange, rows, layer, fmt::format("epoch {}{}, layer {}", epoch_, phase, layer), scale);
  };
}

// O(local edges + halo): the Block keeps the sampled halo columns, the input rows are gathered
// from the full halo's (fixed, so layer 0 still never exchanges) and scaled.
void Trainer::draw_sample() {
  sample_ = sampler_->draw(epoch_);
  if (sample_.scale.defined()) sample_.scale = sample_.scale.to(options_.device());
  const BoundarySample& sample = sample_;
  const int64_t inner = exchange_->plan().num_inner, halo = sample.plan.num_halo;
  std::vector<int32_t> columns(static_cast<size_t>(inner));
  std::iota(columns.begin(), columns.end(), 0);
  for (int32_t h : sample.halo) columns.push_back(static_cast<int32_t>(inner + h));
  sampled_block_ = std::make_unique<Block>(block_->keep_columns(columns));
  if (sampled_exchange_) sampled_exchange_->replan(sample.plan);
  // Precomputed, layer 0 reads no halo rows: its aggregate is over the full halo, exact. So
  // does BNS-GCN with --use-pp (it samples layers >= 1 only); that also costs no time per
  // epoch and adds no variance, while sampling it would mean aggregating again every epoch.
  if (input_ == Input::precomputed) return;
  const at::Tensor index =
      index_tensor(c10::ArrayRef<int32_t>(columns).slice(static_cast<size_t>(inner)), options_.device());
  if (is_sparse_rows(features_)) {
    at::Tensor scale = sample.scale;
    if (scale.defined()) scale = at::cat({at::ones({inner}, scale.options()), scale});
    sampled_features_ = select_sparse_rows(features_, at::cat({at::arange(inner, at::kLong), index}), scale);
    return;
  }
  if (!sampled_features_.defined() || sampled_features_.size(0) != inner + halo) {
    sampled_features_ = at::empty({inner + halo, features_.size(1)}, features_.options());
    sampled_features_.narrow(0, 0, inner).copy_(features_.narrow(0, 0, inner));
  }
  at::Tensor rows = sampled_features_.narrow(0, inner, halo);
  at::index_select_out(rows, features_, 0, index);
  if (sample.scale.defined()) rows.mul_(sample.scale.unsqueeze(1).to(rows.scalar_type()));
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

// Rule 2 relies on every rank applying the same update to the same weights; a fingerprint of
// the weights' bits, compared with rank 0's, catches any drift at the step that caused it.
void Trainer::check_replicas() {
  uint64_t hash = 0;
  for (const at::Tensor& p : model_->parameters()) {
    const at::Tensor bits = p.detach().cpu().contiguous().view(at::kInt).flatten();
    const int32_t* w = bits.data_ptr<int32_t>();
    for (int64_t i = 0; i < bits.numel(); ++i) hash = mix64(hash ^ static_cast<uint32_t>(w[i]));
  }
  const at::Tensor mine = at::tensor({static_cast<int64_t>(hash)}, at::kLong);
  at::Tensor root = mine.to(comm_->device());
  comm_->broadcast(root, 0, fmt::format("epoch {}, weight check", epoch_));
  root = root.cpu();
  const at::Tensor differing = over_ranks(at::tensor({static_cast<int64_t>(!root.equal(mine))}, at::kLong),
                                          ReduceOp::sum, fmt::format("epoch {}, weight check", epoch_));
  if (differing.item<int64_t>() > 0) {
    throw Error(fmt::format("epoch {}: the weights of {} rank(s) differ from rank 0's after the step{}", epoch_,
                            differing.item<int64_t>(),
                            root.equal(mine) ? "" : fmt::format(" (rank {} is one of them)", comm_->rank())));
  }
}

Accuracy Trainer::evaluate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  const HaloFill fill = exchange_ ? exchange_fill(*exchange_, {}, " evaluation") : HaloFill();
  const at::Tensor predicted = forward(*block_, features_, fill, 0).argmax(1);
  model_->train();
  auto correct = [&](const at::Tensor& index) {
    return predicted.index_select(0, index).eq(labels_.index_select(0, index)).sum().item<int64_t>();
  };
  const at::Tensor counts =
      over_ranks(at::tensor({correct(train_index_), correct(val_index_), correct(test_index_)}, at::kLong),
                 ReduceOp::sum, fmt::format("epoch {} evaluation, correct counts", epoch_));
  auto share = [](int64_t c, int64_t n) { return n == 0 ? 0.0 : static_cast<double>(c) / static_cast<double>(n); };
  return {share(counts[0].item<int64_t>(), global_train_), share(counts[1].item<int64_t>(), global_val_),
          share(counts[2].item<int64_t>(), global_test_)};
}

EpochMetrics Trainer::step() {
  EpochMetrics m;
  m.epoch = epoch_;
  Stopwatch epoch_clock;
  model_->train();
  HaloExchange* exchange = sampler_ ? sampled_exchange_.get() : exchange_.get();
  if (exchange) exchange->reset_counters();
  if (stale_) stale_->reset_counters();
  Stopwatch clock;
  if (sampler_) {
    draw_sample();
    m.sample_seconds = clock.seconds();
  }
  const Block& block = sampler_ ? *sampled_block_ : *block_;
  const at::Tensor scale = sampler_ ? sample_.scale : at::Tensor();
  m.halo_rows = block.num_cols() - block.num_rows();
  HaloFill fill;
  if (stale_) {
    stale_->begin_epoch(epoch_);
    fill = [&](const at::Tensor& rows, int layer) {
      return stale_->fill(rows, layer, scale, fmt::format("epoch {}, layer {}", epoch_, layer));
    };
  } else if (exchange) {
    fill = exchange_fill(*exchange, scale, "");
  }
  const at::Tensor loss = this->loss(forward(block, sampled_features_.defined() ? sampled_features_ : features_, fill,
                                             stream_key(options_.seed(), epoch_)));
  m.forward_seconds = clock.seconds();
  clock = Stopwatch();
  optimizer_->zero_grad();
  loss.backward();
  m.backward_seconds = clock.seconds();
  clock = Stopwatch();
  m.loss = allreduce_gradients(loss.item<double>());
  // The loss is summed over the ranks, so every rank sees a divergence and stops at this epoch.
  if (!std::isfinite(m.loss)) {
    throw Error(fmt::format("epoch {}: the training loss is {}; the run diverged (try a smaller --lr)", epoch_, m.loss));
  }
  m.allreduce_seconds = clock.seconds();
  if (stale_) stale_->send_gradients();  // behind the allreduce, not ahead of it (stale_exchange.h)
  clock = Stopwatch();
  optimizer_->step();
  m.optimizer_seconds = clock.seconds();
  if (exchange || stale_) {
    const ExchangeCounters c = stale_ ? stale_->counters() : exchange->counters();
    m.exchange_seconds = c.seconds;
    m.bytes_sent = c.bytes_sent;
    m.messages_sent = c.messages_sent;
    m.exposed_comm_seconds = c.wait_seconds;
    m.total_comm_seconds = c.flight_seconds;
  }
  m.compute_seconds = m.forward_seconds + m.backward_seconds + m.optimizer_seconds - m.exchange_seconds;
  if (comm_ && options_.check_replicas()) check_replicas();
  m.epoch_seconds = epoch_clock.seconds();
  if ((epoch_ + 1) % options_.eval_every() == 0 || epoch_ + 1 == options_.epochs()) {
    clock = Stopwatch();
    m.accuracy = evaluate();
    m.evaluated = true;
    m.eval_seconds = clock.seconds();
    if (m.accuracy.val > result_.at_best.val || result_.best_epoch < 0) {
      result_.best_epoch = epoch_;
      result_.at_best = m.accuracy;
    }
  }
  m.peak_rss_bytes = peak_rss_bytes();
  spread_over_ranks(m);
  ++epoch_;
  return m;
}

void Trainer::spread_over_ranks(EpochMetrics& m) const {
  const std::vector<double> mine = {m.epoch_seconds,
                                    m.compute_seconds,
                                    m.exchange_seconds,
                                    m.allreduce_seconds,
                                    static_cast<double>(m.bytes_sent),
                                    static_cast<double>(m.peak_rss_bytes),
                                    static_cast<double>(m.halo_rows),
                                    m.exposed_comm_seconds,
                                    m.total_comm_seconds};
  const int ranks = comm_ ? comm_->size() : 1, rank = comm_ ? comm_->rank() : 0;
  const int64_t n = static_cast<int64_t>(mine.size());
  // The sum also carries the per-rank breakdown: each rank fills its own slots, the others are 0.
  at::Tensor max = at::tensor(mine, at::kDouble), sum = at::zeros({n + 3 * ranks}, at::kDouble);
  sum.narrow(0, 0, n).copy_(max);
  for (const auto& [i, value] :
       {std::pair{0, m.compute_seconds}, {1, m.exposed_comm_seconds}, {2, m.allreduce_seconds}})
    sum[n + i * ranks + rank] = value;
  max = over_ranks(max, ReduceOp::max, fmt::format("epoch {}, metrics", epoch_));
  sum = over_ranks(sum, ReduceOp::sum, fmt::format("epoch {}, metrics", epoch_));
  m.ranks = ranks;
  const auto by_rank = [&](int i) {
    const at::Tensor part = sum.narrow(0, n + i * ranks, ranks).contiguous();
    return std::vector<double>(part.data_ptr<double>(), part.data_ptr<double>() + ranks);
  };
  m.compute_by_rank = by_rank(0);
  m.exposed_by_rank = by_rank(1);
  m.allreduce_by_rank = by_rank(2);
  RankSpread* spreads[] = {&m.epoch_spread, &m.compute_spread, &m.exchange_spread, &m.allreduce_spread, &m.bytes_spread,
                           &m.rss_spread,   &m.halo_spread,    &m.exposed_spread,  &m.total_comm_spread};
  for (size_t i = 0; i < std::size(spreads); ++i)
    *spreads[i] = {max[i].item<double>(), sum[i].item<double>() / m.ranks};
}

TrainResult Trainer::train() {
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
      const std::string comm =
          m.ranks > 1 ? fmt::format(" comm {:.0f}%", 100 * (m.exchange_spread.max + m.allreduce_spread.max) /
                                                         std::max(m.epoch_spread.max, 1e-9))
                      : "";
      progress->note(m.evaluated ? fmt::format("loss {:.4f} val {:.3f}{}", m.loss, m.accuracy.val, comm)
                                 : fmt::format("loss {:.4f}{}", m.loss, comm));
      progress->advance();
    }
    const bool due = options_.checkpoint_every() > 0 && epoch_ % options_.checkpoint_every() == 0;
    if (!options_.checkpoint_dir().empty() && (due || epoch_ == options_.epochs())) {
      save_checkpoint();
    }
  }
  if (stale_) stale_->drain();  // the last epoch's messages: nothing is left in flight at the end
  if (progress) progress->finish();
  const CachingAllocatorStats a = caching_allocator_stats();
  spdlog::debug("large CPU tensors: {} served from freed memory, {} mapped afresh; {:.0f} MiB kept free", a.hits,
                a.misses, a.cached_bytes / 1048576.0);
  return result_;
}

void Trainer::save_checkpoint() {
  const std::string& dir = options_.checkpoint_dir();
  const fs::path folder = fs::path(dir) / checkpoint_folder(epoch_);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("cannot create checkpoint folder {}: {}", folder.string(), ec.message()));
  // The pipeline's rows and gradients in flight differ per rank: each rank writes its own, and
  // rank 0 learns every file's size and checksum for the manifest (rows: ranks; the sum of rows
  // that one rank each fills gathers them, and waits for every file to be written).
  const int ranks = comm_ ? comm_->size() : 1;
  at::Tensor pipeline_digests = at::zeros({ranks, 2}, at::kLong);
  if (stale_) {
    const std::vector<char> bytes = torch::jit::pickle_save(stale_->checkpoint_state());
    const FileDigest d = write_file_atomically((folder / pipeline_file(comm_->rank())).string(),
                                               std::string(bytes.begin(), bytes.end()));
    pipeline_digests[comm_->rank()][0] = static_cast<int64_t>(d.bytes);
    pipeline_digests[comm_->rank()][1] = static_cast<int64_t>(d.crc32);
  }
  pipeline_digests = over_ranks(pipeline_digests, ReduceOp::sum, fmt::format("epoch {}, checkpoint", epoch_));
  if (!leader()) {
    comm_->barrier(fmt::format("epoch {}, checkpoint", epoch_));
    return;
  }
  CheckpointState state;
  state.epoch = epoch_;
  state.seed = options_.seed();
  state.ranks = ranks;
  state.pipeline = stale_ != nullptr;
  state.best_epoch = result_.best_epoch;
  state.best_train = result_.at_best.train;
  state.best_val = result_.at_best.val;
  state.best_test = result_.at_best.test;
  for (int r = 0; stale_ && r < ranks; ++r) {
    state.files[pipeline_file(r)] = {static_cast<uint64_t>(pipeline_digests[r][0].item<int64_t>()),
                                     static_cast<uint32_t>(pipeline_digests[r][1].item<int64_t>())};
  }
  // Through memory and write_file_atomically, which checks that every byte reached the disk:
  // torch::save to a path says nothing when the disk is full.
  const auto save = [&](const auto& what, const char* file) {
    std::ostringstream bytes;
    torch::save(what, bytes);
    state.files[file] = write_file_atomically((folder / file).string(), bytes.str());
  };
  save(model_, "model.pt");
  save(*optimizer_, "optimizer.pt");
  write_checkpoint_state(dir, state);
  // Only now is the previous checkpoint (this run's, or the one it resumed or overwrote) no
  // longer needed; of it, only the files its manifest lists are deleted.
  if (checkpoints_->previous && checkpoints_->previous->epoch != epoch_) {
    remove_checkpoint_files(dir, *checkpoints_->previous);
  }
  checkpoints_->previous = state;
  if (comm_) comm_->barrier(fmt::format("epoch {}, checkpoint", epoch_));
}

void Trainer::load_checkpoint(const std::string& dir) {
  const CheckpointState state = read_checkpoint_state(dir);
  const std::string manifest = (fs::path(dir) / "state.json").string();
  if (state.seed != options_.seed()) {
    throw Error(fmt::format("{}: written with seed {}, this run uses seed {}", manifest, state.seed, options_.seed()));
  }
  // A file is parsed only after its size and checksum matched; what still fails to load was
  // written for another architecture.
  const auto load = [&](auto& into, const std::string& file) {
    std::istringstream bytes(read_checkpoint_file(dir, state, file));
    try {
      torch::load(into, bytes);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: checkpoint does not fit this model: {}",
                              (fs::path(dir) / checkpoint_folder(state.epoch) / file).string(),
                              e.what_without_backtrace()));
    }
  };
  // torch::load() silently re-shapes parameters, so a different architecture is caught here.
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : model_->named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  load(model_, "model.pt");
  for (const auto& [name, shape] : shapes) {
    const auto loaded = model_->named_parameters()[name].sizes().vec();
    if (loaded != shape) {
      throw Error(fmt::format("{}: checkpoint does not fit this model: '{}' is [{}] there, [{}] here", dir, name,
                              fmt::join(loaded, ", "), fmt::join(shape, ", ")));
    }
  }
  load(*optimizer_, "optimizer.pt");
  // A checkpoint without pipeline state (or a run without the pipeline) starts it afresh, with
  // one synchronous epoch.
  if (stale_ && state.pipeline) {
    if (state.ranks != comm_->size()) {
      throw Error(fmt::format("{}: pipeline state of {} ranks, this job has {}", manifest, state.ranks, comm_->size()));
    }
    const std::string file = pipeline_file(comm_->rank());
    const std::string bytes = read_checkpoint_file(dir, state, file);
    const std::string path = (fs::path(dir) / checkpoint_folder(state.epoch) / file).string();
    try {
      const c10::IValue value = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
      if (!value.isGenericDict()) throw Error("not a dictionary of tensors");
      c10::Dict<std::string, at::Tensor> parts;
      for (const auto& item : value.toGenericDict()) parts.insert(item.key().toStringRef(), item.value().toTensor());
      stale_->restore(parts);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: not this job's pipeline state: {}", path, e.what_without_backtrace()));
    } catch (const Error& e) {
      throw Error(fmt::format("{}: not this job's pipeline state: {}", path, e.what()));
    }
  }
  epoch_ = state.epoch;
  result_.best_epoch = state.best_epoch;
  result_.at_best = {state.best_train, state.best_val, state.best_test};
  if (checkpoints_ && dir == checkpoints_->dir()) checkpoints_->previous = state;
}

// torch::pickle_save() tags the dictionary with its C++ types, which Python's torch.load()
// refuses by default since PyTorch 2.6 (weights_only=True); an untagged pickle in the same
// zip container loads in both.
void export_weights(const Model& model, const std::string& path) {
  c10::Dict<std::string, at::Tensor> weights;
  // Host copies: the file loads on a machine without the GPU that trained it.
  const auto host_copy = [](const at::Tensor& t) { return t.detach().to(at::kCPU, false, true); };
  for (const auto& p : model->named_parameters()) weights.insert(p.key(), host_copy(p.value()));
  for (const auto& b : model->named_buffers()) weights.insert(b.key(), host_copy(b.value()));
  std::string pickle;
  torch::jit::Pickler pickler([&](const char* data, size_t size) { pickle.append(data, size); }, nullptr, nullptr,
                              nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(weights));
  pickler.stop();
  std::string archive;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
      archive.append(static_cast<const char*>(data), size);
      return size;
    });
    torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
  }
  write_file_atomically(path, archive);
}

}  // namespace halo
