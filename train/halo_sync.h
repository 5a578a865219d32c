#pragma once
// HaloSync: how a training epoch gets its halo rows, chosen once at set-up (DESIGN rule 10).
//
//   local          one process: the whole graph, nothing to exchange
//   full           synchronous exchange of the full halo before every layer >= 1
//   overlap        the same, exact, but each layer >= 1 computes its inner columns' part while
//                  its halo rows travel, and its inner gradients while theirs travel back
//   sampled        BNS-GCN (rule 3): each epoch a sample of the halo, its rows scaled by 1 / ratio
//   stale          PipeGCN (rule 5): halo rows and gradients one epoch old, this epoch's in flight
//   sampled+stale, sampled+overlap  both
// and any of these with compressed messages, "+bf16", "+fp16" or "+int8" after its name.
//
// The Trainer asks it for each epoch's Block, input rows and fill between layers, tells it when
// the weight gradients are reduced, and reads its counters; it never asks which one runs.
// Evaluation goes through exact() on every strategy: the full halo, synchronous (rule 6).
#include <ATen/core/Dict.h>
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "comm/halo_exchange.h"
#include "gcn/model.h"
#include "pipeline/stale_exchange.h"
#include "sampling/block.h"

namespace halo {

// What one forward pass computes on.
struct EpochHalo {
  const Block* block = nullptr;
  at::Tensor input;  // the rows layer 0 reads (its precomputed rows, or one per column of block)
  HaloFill fill;     // the halo rows of layers >= 1 (empty in one process)
  HaloPost post;     // overlapped: the same posted early, for the layers that overlap
};

class HaloSync {
 public:
  virtual ~HaloSync() = default;
  // "local", "full", "overlap", "stale", "sampled", "sampled+overlap" or "sampled+stale" (the
  // metrics name it).
  virtual std::string name() const = 0;
  // Training epoch `epoch`: draws its sample, starts its pipeline step, restarts the counters.
  virtual EpochHalo begin_epoch(int64_t epoch) = 0;
  // After the epoch's weight-gradient allreduce.
  virtual void after_allreduce() {}
  // Exact rows for an evaluation: full halo, synchronous; `what` names its exchanges.
  virtual EpochHalo exact(const std::string& what) = 0;
  // The training exchanges since begin_epoch(), and the same by layer (>= 1).
  virtual ExchangeCounters counters() const { return {}; }
  virtual std::map<int, ExchangeCounters> counters_by_layer() const { return {}; }
  // Completes every message in flight (the end of training).
  virtual void drain() {}
  // What a checkpoint keeps so that a resumed run continues bit for bit: nothing unless
  // has_state(). checkpoint_state() is called between epochs.
  virtual bool has_state() const { return false; }
  virtual c10::Dict<std::string, at::Tensor> checkpoint_state() { return c10::Dict<std::string, at::Tensor>(); }
  virtual void restore(const c10::Dict<std::string, at::Tensor>& /*state*/) {}
};

// The options that choose a distributed strategy (TrainerOptions holds them).
struct HaloSyncOptions {
  std::optional<double> boundary_rate;            // BNS-GCN's p; unset: the full halo
  std::optional<StaleOptions> pipeline;           // PipeGCN
  bool overlap = false;                           // exact, overlapped (not with pipeline)
  HaloPrecision precision = HaloPrecision::fp32;  // of the training exchanges (evaluation: fp32)
  uint64_t seed = 0;                              // of the boundary sample and int8's rounding
  at::Device device = at::kCPU;                   // where the sample's scale lives
  int64_t stream_bytes = int64_t{64} << 20;       // evaluation: TrainerOptions::stream_halo_bytes
};

// One process: `block` (the whole graph, outliving the strategy) and its input rows.
std::unique_ptr<HaloSync> local_sync(const Block& block, const at::Tensor& input);

// A rank of a distributed job: full, sampled, stale or sampled+stale as the options say. block:
// this rank's, over [inner | full halo] columns; input: its rows for every column, or layer 0's
// precomputed rows (precomputed); exchange: over the full halo plan, through comm. block and
// exchange outlive the strategy.
std::unique_ptr<HaloSync> distributed_sync(const Block& block, const at::Tensor& input, bool precomputed,
                                           HaloExchange& exchange, std::shared_ptr<Communicator> comm,
                                           const HaloSyncOptions& options);

}  // namespace halo
