#pragma once
// StaleExchange: PipeGCN's pipelined halo exchange (DESIGN rule 5). In epoch t, layer l >= 1
// computes with the halo rows their owners sent in epoch t-1 while epoch t's rows travel, and
// the backward pass adds into the owned rows the halo gradients sent in epoch t-1 while epoch
// t's travel. The first epoch (of a run, or after drain()) runs synchronously, and its rows and
// gradients also serve the epoch after it: staleness is exactly one epoch, and never zeros. A
// ProgressThread moves the messages while the compute threads work.
//
// With boundary sampling, the rows an owner sends in epoch t are those of epoch t+1's sample
// (drawn from (seed, epoch, owner, peer), so the owner knows it one epoch ahead): the stale rows
// a rank computes with always belong to the sample of its current Block, each row one epoch
// old. Gradients arrive summed into owned rows, so the change of sample does not touch them.
//
// Gradients are posted after the weight allreduce (send_gradients): posted during backward, they
// would queue ahead of the allreduce on the same links (MPI sends to a peer in order) and make it
// wait for them. Rows are posted as soon as they are computed: they have left by then.
//
// Messages move while layers compute thanks to a ProgressThread; without one (MPI lacking
// MPI_THREAD_MULTIPLE, or progress_thread off) they are moved along at every layer boundary.
// Three exchanges rotate for that: epoch t's plan receives the stale rows and sends this
// epoch's gradients, epoch t+1's sends this epoch's rows, epoch t-1's completes last epoch's
// gradients.
#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comm/halo_exchange.h"
#include "comm/progress_thread.h"
#include "sampling/boundary_sampler.h"

namespace halo {

struct StaleOptions {
  // Moving averages avg = gamma * avg + (1 - gamma) * new of the stale halo rows (per halo node)
  // and of the stale gradients added into owned rows.
  TORCH_ARG(bool, smooth_features) = false;
  TORCH_ARG(bool, smooth_gradients) = false;
  TORCH_ARG(double, gamma) = 0.95;
  // A thread that moves the messages while the layers compute (when the communicator allows it).
  TORCH_ARG(bool, progress_thread) = true;
};

class StaleExchange {
 public:
  // full: this rank's full plan; sampler: the BNS sampler, or null for the full halo.
  StaleExchange(const HaloPlan& full, std::shared_ptr<Communicator> comm, const BoundarySampler* sampler,
                const StaleOptions& options);
  // Leaves unfinished messages to the communicator (which keeps their buffers alive) instead of
  // waiting: a failing job must not wait on a dead peer here.
  ~StaleExchange();

  // Rows and gradients travel in `precision` (halo_codec.h), int8's rounding keyed by (seed, epoch).
  void set_precision(HaloPrecision precision, uint64_t seed);
  // Starts epoch `epoch`: the plans of this epoch's and the next epoch's samples.
  void begin_epoch(int64_t epoch);
  // inner: [num_inner, F] -> [num_inner + halo, F], the halo rows (times `scale`, BNS's 1 / ratio)
  // one epoch old. An autograd op: backward sends the halo gradients and adds last epoch's.
  at::Tensor fill(const at::Tensor& inner, int layer, const at::Tensor& scale, const std::string& what);
  // Posts the halo gradients of this epoch's backward pass, held back until the caller's
  // allreduce is done (begin_epoch posts any still held).
  void send_gradients();
  // What a checkpoint needs to continue bit for bit: completes the messages in flight (their
  // values were fixed when sent, so waiting now changes only when they are waited for) and
  // returns their rows and gradients with the moving averages, named "layer<l>.<part>". Call
  // between epochs.
  c10::Dict<std::string, at::Tensor> checkpoint_state();
  // Continues from checkpoint_state(): the next epoch computes with its rows and gradients
  // instead of running synchronously. Throws Error on a name it does not know.
  void restore(const c10::Dict<std::string, at::Tensor>& state);
  // Completes every message in flight; the next epoch runs synchronously.
  void drain();

  // Summed over the rotating exchanges since the last reset; and split by layer.
  ExchangeCounters counters() const;
  std::map<int, ExchangeCounters> counters_by_layer() const;
  void reset_counters();

  // Tags of the pipelined messages start here, clear of the synchronous exchanges' (the layer).
  static constexpr int kFirstTag = HaloExchange::kMaxTags / 2;

 private:
  friend class StaleFillFunction;
  at::Device device() const { return exchanges_[0]->communicator().device(); }
  struct InFlight {
    HaloExchange::Pending pending;
    int slot = 0;  // the exchange that started it
  };
  struct HeldGradients {
    int layer = 0, slot = 0;
    at::Tensor halo;
    std::string what;
  };
  struct Layer {
    std::optional<InFlight> rows, gradients;
    // Arrived before the epoch that uses them: rows and gradients completed for a checkpoint or
    // restored from one.
    at::Tensor ready_rows, ready_gradients;
    at::Tensor row_average, row_seen, gradient_average;  // smoothing
  };

  int slot(int64_t epoch) const { return static_cast<int>(epoch % static_cast<int64_t>(exchanges_.size())); }
  // Without a progress thread: tests every exchange in flight (at layer boundaries).
  void progress_all();
  Layer& layer(int l);
  // Wait for a layer's rows or gradients in flight (the gradients summed into owned rows); the
  // layer no longer holds them.
  at::Tensor arrived_rows(Layer& s);
  at::Tensor arrived_gradients(Layer& s);
  // The tensors of a layer's state that a checkpoint keeps, by name.
  static std::vector<std::pair<std::string, at::Tensor*>> state_parts(Layer& s);
  at::Tensor smooth_rows(Layer& state, const at::Tensor& rows);
  // Backward of fill: sends grad_halo home and returns what is added into owned rows.
  at::Tensor exchange_gradients(int layer, const at::Tensor& grad_halo, bool synchronous, const std::string& what);

  StaleOptions options_;
  const BoundarySampler* sampler_;
  int64_t num_halo_;                                      // of the full plan
  std::unique_ptr<ProgressThread> progress_;              // destroyed last: it holds transfers too (may be null)
  std::vector<std::unique_ptr<HaloExchange>> exchanges_;  // 3 rotating with a sampler, else 1
  std::shared_ptr<Communicator> comm_;
  HaloPrecision precision_ = HaloPrecision::fp32;
  uint64_t rounding_seed_ = 0;
  std::vector<int64_t> planned_;  // the epoch whose sample each holds
  int64_t epoch_ = 0;
  std::vector<at::Tensor> halo_index_;  // per exchange: full halo positions of its sample's rows (smoothing)
  std::vector<Layer> layers_;
  std::vector<HeldGradients> held_;  // this epoch's, until send_gradients()
};

}  // namespace halo
