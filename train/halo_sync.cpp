#include "train/halo_sync.h"

#include <fmt/format.h>

#include <utility>

#include "core/counter_rng.h"
#include "core/error.h"
#include "train/halo_fill.h"
#include "train/sampled_halo.h"

namespace halo {
namespace {

// Synchronous fills through `exchange`, whose plan's halo columns are the Block's; `phase`
// ("epoch 3", "epoch 3 evaluation") and the layer name each in deadline errors.
HaloFill exchange_fill(HaloExchange& exchange, const at::Tensor& scale, const std::string& phase) {
  return [&exchange, scale, phase](const at::Tensor& rows, int layer) {
    return halo_fill(exchange, rows, layer, fmt::format("{}, layer {}", phase, layer), scale);
  };
}

class LocalSync : public HaloSync {
 public:
  LocalSync(const Block& block, const at::Tensor& input) : block_(block), input_(input) {}
  std::string name() const override { return "local"; }
  EpochHalo begin_epoch(int64_t) override { return {&block_, input_, {}, {}}; }
  EpochHalo exact(const std::string&) override { return {&block_, input_, {}, {}}; }

 private:
  const Block& block_;
  at::Tensor input_;
};

// What the distributed strategies share: the full halo (evaluation always uses it) and, under
// BNS-GCN, the epoch's sample.
class DistributedSync : public HaloSync {
 public:
  DistributedSync(const Block& block, const at::Tensor& input, bool precomputed, HaloExchange& exchange,
                  const HaloSyncOptions& o)
      : block_(block),
        input_(input),
        exchange_(exchange),
        precision_(o.precision),
        seed_(o.seed),
        stream_bytes_(o.stream_bytes) {
    // Every rank must choose alike whether an evaluation streams: by the largest halo.
    largest_halo_ = over_ranks(&exchange.communicator(), at::tensor({exchange.plan().num_halo}, at::kLong),
                               ReduceOp::max, "set-up, largest halo")
                        .item<int64_t>();
    if (o.boundary_rate) {
      sampled_ =
          std::make_unique<SampledHalo>(block, input, precomputed, exchange.plan(), *o.boundary_rate, o.seed, o.device);
    }
  }
  // Where the full halo is large, the layers that add their halo columns up take it peer by
  // peer: an evaluation holds one peer's rows at a time, not the halo training's sample avoids.
  EpochHalo exact(const std::string& what) override {
    EpochHalo halo{&block_, input_, exchange_fill(exchange_, {}, what), {}};
    halo.post = [this, what](const at::Tensor& rows, int layer) {
      const std::string name = fmt::format("{}, layer {}", what, layer);
      if (largest_halo_ * rows.size(1) * static_cast<int64_t>(rows.element_size()) >= stream_bytes_) {
        return halo_stream(exchange_, rows, layer, name);
      }
      return halo_post(exchange_, rows, layer, name);
    };
    return halo;
  }

 protected:
  // The epoch's Block and input, its sample drawn first under BNS-GCN; fill left to the caller.
  EpochHalo rows_of(int64_t epoch) {
    if (!sampled_) return {&block_, input_, {}, {}};
    sampled_->draw(epoch);
    return {&sampled_->block(), sampled_->input(), {}, {}};
  }
  at::Tensor scale() const { return sampled_ ? sampled_->sample().scale : at::Tensor(); }
  // "sampled+" before another strategy's name.
  std::string sampled_prefix() const { return sampled_ ? "sampled+" : ""; }
  std::string precision_suffix() const { return precision_ == HaloPrecision::fp32 ? "" : "+" + to_string(precision_); }

  const Block& block_;
  at::Tensor input_;
  HaloExchange& exchange_;
  HaloPrecision precision_;
  uint64_t seed_;
  int64_t stream_bytes_, largest_halo_ = 0;  // evaluation streams at or above stream_bytes_
  std::unique_ptr<SampledHalo> sampled_;     // null: the full halo
};

// Full or sampled: every layer >= 1 waits for its halo rows, or, overlapped, for what its inner
// rows alone cannot give.
class ExchangeSync : public DistributedSync {
 public:
  ExchangeSync(const Block& block, const at::Tensor& input, bool precomputed, HaloExchange& exchange,
               std::shared_ptr<Communicator> comm, const HaloSyncOptions& o)
      : DistributedSync(block, input, precomputed, exchange, o), comm_(std::move(comm)), overlap_(o.overlap) {
    // Evaluation keeps the full plan at fp32: compression needs an exchange of its own, and so
    // does each epoch's sample (begin_epoch).
    if (precision_ != HaloPrecision::fp32) own_exchange_ = exchange_for(exchange.plan());
    // Overlapped messages must move while the layer computes (progress_thread.h).
    if (overlap_ && comm_->thread_safe()) {
      progress_ = std::make_unique<ProgressThread>();
      epoch_exchange().set_progress(progress_.get());
    }
  }
  // The run's exchange outlives the progress thread (own exchanges die before it): a sample's
  // strategy set the thread there too, before its first epoch's exchange replaced it.
  ~ExchangeSync() override { exchange_.set_progress(nullptr); }
  std::string name() const override {
    if (overlap_) return sampled_prefix() + "overlap" + precision_suffix();
    return (sampled_ ? "sampled" : "full") + precision_suffix();
  }
  EpochHalo begin_epoch(int64_t epoch) override {
    EpochHalo halo = rows_of(epoch);
    if (sampled_) own_exchange_ = exchange_for(sampled_->sample().plan);
    epoch_exchange().reset_counters();
    epoch_exchange().set_rounding_key(stream_key(seed_, epoch));
    const std::string phase = fmt::format("epoch {}", epoch);
    // Overlapped, the layers that cannot overlap (GAT) still wait for their rows.
    halo.fill = exchange_fill(epoch_exchange(), scale(), phase);
    if (overlap_) {
      halo.post = [&exchange = epoch_exchange(), scale = scale(), phase](const at::Tensor& rows, int layer) {
        return halo_post(exchange, rows, layer, fmt::format("{}, layer {}", phase, layer), scale);
      };
    }
    return halo;
  }
  ExchangeCounters counters() const override { return epoch_exchange().counters(); }
  // halo_fill's and halo_post's tag is the layer.
  std::map<int, ExchangeCounters> counters_by_layer() const override { return epoch_exchange().counters_by_tag(); }

 private:
  HaloExchange& epoch_exchange() const { return own_exchange_ ? *own_exchange_ : exchange_; }
  // The previous epoch's exchange (if any) has nothing in flight: its backward is done.
  std::unique_ptr<HaloExchange> exchange_for(const HaloPlan& plan) const {
    auto e = std::make_unique<HaloExchange>(plan, comm_);
    e->set_precision(precision_);
    e->set_progress(progress_.get());
    return e;
  }
  std::shared_ptr<Communicator> comm_;
  bool overlap_;
  std::unique_ptr<ProgressThread> progress_;    // declared before the exchanges that use it
  std::unique_ptr<HaloExchange> own_exchange_;  // the epoch's sample, or compressed
};

// PipeGCN, with or without a sample: layers >= 1 compute with last epoch's rows and gradients.
class StaleSync : public DistributedSync {
 public:
  StaleSync(const Block& block, const at::Tensor& input, bool precomputed, HaloExchange& exchange,
            std::shared_ptr<Communicator> comm, const HaloSyncOptions& o)
      : DistributedSync(block, input, precomputed, exchange, o),
        stale_(std::make_unique<StaleExchange>(exchange.plan(), std::move(comm),
                                               sampled_ ? &sampled_->sampler() : nullptr, *o.pipeline)) {
    stale_->set_precision(o.precision, o.seed);
  }
  std::string name() const override { return sampled_prefix() + "stale" + precision_suffix(); }
  EpochHalo begin_epoch(int64_t epoch) override {
    stale_->reset_counters();
    EpochHalo halo = rows_of(epoch);
    stale_->begin_epoch(epoch);
    halo.fill = [stale = stale_.get(), scale = scale(), epoch](const at::Tensor& rows, int layer) {
      return stale->fill(rows, layer, scale, fmt::format("epoch {}, layer {}", epoch, layer));
    };
    return halo;
  }
  // Behind the allreduce, not ahead of it (stale_exchange.h).
  void after_allreduce() override { stale_->send_gradients(); }
  ExchangeCounters counters() const override { return stale_->counters(); }
  std::map<int, ExchangeCounters> counters_by_layer() const override { return stale_->counters_by_layer(); }
  void drain() override { stale_->drain(); }
  bool has_state() const override { return true; }
  c10::Dict<std::string, at::Tensor> checkpoint_state() override { return stale_->checkpoint_state(); }
  void restore(const c10::Dict<std::string, at::Tensor>& state) override { stale_->restore(state); }

 private:
  std::unique_ptr<StaleExchange> stale_;
};

}  // namespace

std::unique_ptr<HaloSync> local_sync(const Block& block, const at::Tensor& input) {
  return std::make_unique<LocalSync>(block, input);
}

std::unique_ptr<HaloSync> distributed_sync(const Block& block, const at::Tensor& input, bool precomputed,
                                           HaloExchange& exchange, std::shared_ptr<Communicator> comm,
                                           const HaloSyncOptions& options) {
  if (options.pipeline && options.overlap) {
    throw UsageError("the pipeline and the overlap are two ways to hide the same exchange: choose one");
  }
  if (options.pipeline)
    return std::make_unique<StaleSync>(block, input, precomputed, exchange, std::move(comm), options);
  return std::make_unique<ExchangeSync>(block, input, precomputed, exchange, std::move(comm), options);
}

}  // namespace halo
