#pragma once
// HaloExchange: split-phase operations on a HaloPlan, shaped like PETSc's PetscSF.
//   bcast:  owner rows -> halo copies     (forward: halo features of the next layer)
//   reduce: halo rows  -> summed into owners (backward: halo gradients back to their owners)
// reduce is the adjoint of bcast: <bcast(x), y> = <x, reduce(y)>. Each *_begin packs and posts
// the messages and returns at once, so computation can run before the matching *_end.
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/halo_codec.h"
#include "comm/halo_plan.h"
#include "comm/progress_thread.h"

namespace halo {

// Bytes (as sent, after any compression) and messages this rank sent; the seconds it spent inside begin/end calls
// (packing, posting, waiting, unpacking: the exchange's share of an epoch), the part of them spent waiting for
// messages, and the seconds the ended exchanges' messages were in flight. With computation between begin and end,
// wait_seconds (exposed) falls below flight_seconds.
struct ExchangeCounters {
  int64_t bytes_sent = 0, messages_sent = 0, rows_sent = 0;
  double seconds = 0, wait_seconds = 0, flight_seconds = 0;
  ExchangeCounters& operator+=(const ExchangeCounters& c);
};

class HaloExchange {
 public:
  // Tags below this bound are free for callers (one per layer, say); the exchange maps each to
  // one transfer tag per direction, so message tags stay bounded.
  static constexpr int kMaxTags = kMaxTransferTag / 2;

  // One exchange in flight. Move-only; pass it to the matching *_end.
  class Pending {
   public:
    Pending();
    Pending(Pending&&) noexcept;
    Pending& operator=(Pending&&) noexcept;
    ~Pending();

   private:
    friend class HaloExchange;
    struct State;
    std::unique_ptr<State> state_;
  };

  // One exchange per plan: BNS-GCN's sample of an epoch is a plan of its own (BoundarySample),
  // and so gets an exchange of its own, as PetscSF makes a new SF for a subset of its graph.
  HaloExchange(HaloPlan plan, std::shared_ptr<Communicator> comm);

  // Hands every transfer started from now on to `progress` (null: none), which moves it along
  // while the caller computes; it must outlive the transfers.
  void set_progress(ProgressThread* progress) { progress_ = progress; }

  // Rows and gradients travel in `precision` (halo_codec.h; default fp32, the rows as they are).
  // key keys int8's rounding draws, with the rank and the tag: give each epoch its own
  // (stream_key(seed, epoch)) and runs repeat bit for bit.
  void set_precision(HaloPrecision precision) { precision_ = precision; }
  void set_rounding_key(uint64_t key) { rounding_key_ = key; }
  HaloPrecision precision() const { return precision_; }

  const HaloPlan& plan() const { return plan_; }
  Communicator& communicator() const { return *comm_; }

  // Both directions take their source and destination at the begin, as PetscSF does, and the
  // end only the Pending. `tag` (below kMaxTags) labels the exchange (the layer, say) in the
  // counters and keeps exchanges in flight apart: the exchange derives its message tags from it,
  // one per direction. `what` names it in deadline errors ("epoch 3, layer 1 features").
  //
  // bcast: owned [num_inner, F] on comm's device, any dtype -> [num_halo, F], returned by the
  // end; halo rows no peer sends (none in a full plan) are zero. `halo` is undefined (the end
  // returns a buffer of the exchange's) or a contiguous [num_halo, F] tensor like owned, e.g. the
  // halo part of a layer's input: with the plan's rows in halo order the messages land there
  // directly, without a receive buffer.
  Pending bcast_begin(const at::Tensor& owned, const at::Tensor& halo, int tag, const std::string& what);
  at::Tensor bcast_end(Pending pending);
  at::Tensor bcast(const at::Tensor& owned, int tag, const std::string& what, const at::Tensor& halo = {});
  // [owned | bcast(owned)] as one [num_inner + num_halo, F] tensor, the halo rows received in
  // place behind the owned ones: a layer's input over all its Block's columns, without a copy.
  at::Tensor bcast_columns(const at::Tensor& owned, int tag, const std::string& what);

  // bcast in rounds, one peer's rows at a time: round r sends to rank + r and receives from
  // rank - r (mod the ranks), then hands the received rows to visit(first, rows), `first` their
  // first halo row. So a caller that adds the rows up (an evaluation's aggregation) holds one
  // peer's rows, not the whole halo. fp32 exchanges whose plan receives in halo order (a full
  // plan); blocking, and every rank must call it for the same tag.
  void bcast_by_peer(const at::Tensor& owned, int tag, const std::string& what,
                     const std::function<void(int64_t first, const at::Tensor& rows)>& visit);

  // reduce: halo [num_halo, F] -> owned [num_inner, F] like it: the end adds the rows received
  // from each peer into owned[send_rows], in place, and returns owned. `owned` undefined: the end
  // returns new rows (zeros plus the sums), made only once the messages have arrived, so an
  // exchange in flight holds its messages alone (PipeGCN's gradients travel for a whole epoch).
  Pending reduce_begin(const at::Tensor& halo, const at::Tensor& owned, int tag, const std::string& what);
  at::Tensor reduce_end(Pending pending);
  void reduce(const at::Tensor& halo, const at::Tensor& owned, int tag, const std::string& what);

  // Completes an exchange whose result is no longer wanted (either direction).
  void finish(Pending pending);
  // Moves an exchange in flight along without blocking (for callers without a ProgressThread).
  void progress(const Pending& pending);

  const ExchangeCounters& counters() const { return counters_; }
  // The same split by the callers' tags (the layers).
  const std::map<int, ExchangeCounters>& counters_by_tag() const { return by_tag_; }
  void reset_counters() {
    counters_ = {};
    by_tag_.clear();
  }

 private:
  // Packs the rows of `source` each peer gets and starts the messages; reduce is bcast with the
  // plan's send and receive sides swapped.
  Pending begin(bool bcast, const at::Tensor& source, const at::Tensor& destination, int tag, const std::string& what);
  // Throws unless tag is below kMaxTags and source is [num_inner (bcast) or num_halo, F] on comm's device.
  void check_source(const char* name, bool bcast, const at::Tensor& source, int tag, const std::string& what) const;
  std::unique_ptr<Pending::State> take(Pending& pending, bool bcast, const char* name) const;
  // After the wait: decodes compressed rows into the received buffer.
  void unpack(Pending::State& state) const;
  void count(int tag, const ExchangeCounters& c);  // into counters_ and by_tag_
  void wait(Transfer& transfer, int tag);          // and count the time

  HaloPlan plan_;
  std::shared_ptr<Communicator> comm_;
  ExchangeCounters counters_;
  std::map<int, ExchangeCounters> by_tag_;
  at::Tensor send_index_, recv_index_;  // send_rows / recv_rows as int64 on comm's device
  bool recv_in_order_ = false;          // recv_rows is 0..num_halo-1: bcast_end returns the receive buffer
  ProgressThread* progress_ = nullptr;
  HaloPrecision precision_ = HaloPrecision::fp32;
  uint64_t rounding_key_ = 0;
};

}  // namespace halo
