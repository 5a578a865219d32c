#include "comm/halo_exchange.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/index_tensor.h"
#include "core/resources.h"

namespace halo {

// One exchange in flight: the messages, and the buffers they read and fill (one contiguous
// buffer each, sliced per peer in rank order).
struct HaloExchange::Pending::State {
  bool bcast = true;
  int tag = 0;  // the caller's
  std::shared_ptr<Transfer> transfer;
  at::Tensor packed, received;  // [rows sent, F], [rows received, F]
  at::Tensor into;              // bcast: the caller's [num_halo, F] destination, if any
};

ExchangeCounters& ExchangeCounters::operator+=(const ExchangeCounters& c) {
  bytes_sent += c.bytes_sent;
  messages_sent += c.messages_sent;
  rows_sent += c.rows_sent;
  seconds += c.seconds;
  wait_seconds += c.wait_seconds;
  flight_seconds += c.flight_seconds;
  return *this;
}

HaloExchange::Pending::Pending() = default;
HaloExchange::Pending::Pending(Pending&&) noexcept = default;
HaloExchange::Pending& HaloExchange::Pending::operator=(Pending&&) noexcept = default;
HaloExchange::Pending::~Pending() = default;

HaloExchange::HaloExchange(HaloPlan plan, std::shared_ptr<Communicator> comm) : comm_(std::move(comm)) {
  plan_.num_inner = plan.num_inner;
  replan(std::move(plan));
}

void HaloExchange::replan(HaloPlan plan) {
  const std::string where = fmt::format("HaloExchange (rank {})", comm_->rank());
  plan.check(where);
  if (plan.rank != comm_->rank() || plan.num_ranks != comm_->size() || plan.num_inner != plan_.num_inner) {
    throw Error(
        fmt::format("{}: the plan is for rank {} of {} with {} inner rows, the exchange is rank {} of {} with {}",
                    where, plan.rank, plan.num_ranks, plan.num_inner, comm_->rank(), comm_->size(), plan_.num_inner));
  }
  plan_ = std::move(plan);
  send_index_ = index_tensor(plan_.send_rows, comm_->device());
  recv_index_ = index_tensor(plan_.recv_rows, comm_->device());
  recv_in_order_ = plan_.rows_received() == plan_.num_halo;
  for (int64_t i = 0; i < plan_.rows_received() && recv_in_order_; ++i) recv_in_order_ = plan_.recv_rows[i] == i;
}

HaloExchange::Pending HaloExchange::begin(bool bcast, const at::Tensor& source, int tag, const std::string& what,
                                          const at::Tensor& into) {
  Stopwatch watch;
  const char* name = bcast ? "bcast_begin" : "reduce_begin";
  if (tag < 0 || tag >= kMaxTags) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: tag {} is out of range (0..{}) ({})", comm_->rank(), name, tag,
                            kMaxTags - 1, what));
  }
  const int64_t rows = bcast ? plan_.num_inner : plan_.num_halo;
  if (!source.defined() || source.dim() != 2 || source.size(0) != rows || source.device() != comm_->device()) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: expected a [{}, F] tensor on {}, got {} ({})", comm_->rank(),
                            name, rows, comm_->device().str(),
                            source.defined()
                                ? fmt::format("[{}] on {}", fmt::join(source.sizes(), ", "), source.device().str())
                                : "an undefined tensor",
                            what));
  }
  if (into.defined() &&
      (into.dim() != 2 || into.size(0) != plan_.num_halo || into.size(1) != source.size(1) ||
       into.scalar_type() != source.scalar_type() || into.device() != source.device() || !into.is_contiguous())) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: `into` must be a contiguous [{}, {}] tensor like the rows ({})",
                            comm_->rank(), name, plan_.num_halo, source.size(1), what));
  }
  // bcast sends owned rows send_rows and receives into recv_rows; reduce runs the other way.
  const std::vector<int64_t>& out = bcast ? plan_.send_offsets : plan_.recv_offsets;
  const std::vector<int64_t>& in = bcast ? plan_.recv_offsets : plan_.send_offsets;
  auto state = std::make_unique<Pending::State>();
  state->bcast = bcast;
  state->tag = tag;
  const int transfer_tag = 2 * tag + (bcast ? 0 : 1);
  Buffers& buffers = buffers_[transfer_tag];
  state->packed = reuse(buffers.packed, out.back(), source);
  at::index_select_out(state->packed, source, 0, bcast ? send_index_ : recv_index_);
  state->into = into;
  state->received =
      into.defined() && recv_in_order_ ? into.narrow(0, 0, in.back()) : reuse(buffers.received, in.back(), source);
  std::vector<at::Tensor> send(plan_.num_ranks), recv(plan_.num_ranks);
  int64_t messages = 0;
  for (int32_t j = 0; j < plan_.num_ranks; ++j) {
    send[j] = state->packed.narrow(0, out[j], out[j + 1] - out[j]);
    recv[j] = state->received.narrow(0, in[j], in[j + 1] - in[j]);
    messages += send[j].numel() > 0;
  }
  state->transfer = comm_->start_exchange(std::move(send), std::move(recv), transfer_tag, what);
  if (progress_) progress_->watch(state->transfer);
  Pending pending;
  pending.state_ = std::move(state);
  count(tag, {static_cast<int64_t>(pending.state_->packed.nbytes()), messages, out.back(), watch.seconds()});
  return pending;
}

void HaloExchange::finish(Pending pending) {
  if (!pending.state_) throw Error(fmt::format("rank {}: HaloExchange::finish: the Pending is empty", comm_->rank()));
  wait(*pending.state_->transfer, pending.state_->tag);
}

void HaloExchange::progress(const Pending& pending) {
  if (pending.state_) pending.state_->transfer->test();
}

void HaloExchange::count(int tag, const ExchangeCounters& c) {
  counters_ += c;
  by_tag_[tag] += c;
}

void HaloExchange::wait(Transfer& transfer, int tag) {
  Stopwatch watch;
  transfer.wait();
  ExchangeCounters c;
  c.wait_seconds = watch.seconds();
  c.flight_seconds = transfer.flight_seconds();
  count(tag, c);
}

at::Tensor HaloExchange::reuse(at::Tensor& slot, int64_t rows, const at::Tensor& like) {
  const bool free = slot.defined() && slot.use_count() == 1 && slot.storage().use_count() == 1;
  if (!free || slot.size(0) != rows || slot.size(1) != like.size(1) || slot.scalar_type() != like.scalar_type() ||
      slot.device() != like.device()) {
    slot = at::empty({rows, like.size(1)}, like.options());
  }
  return slot;
}

std::unique_ptr<HaloExchange::Pending::State> HaloExchange::take(Pending& pending, bool bcast, const char* name) const {
  if (!pending.state_) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: the Pending is empty (already ended, or moved from)",
                            comm_->rank(), name));
  }
  if (pending.state_->bcast != bcast) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: got the Pending of a {}_begin", comm_->rank(), name,
                            bcast ? "reduce" : "bcast"));
  }
  return std::move(pending.state_);
}

HaloExchange::Pending HaloExchange::bcast_begin(const at::Tensor& owned, int tag, const std::string& what,
                                                const at::Tensor& into) {
  return begin(true, owned, tag, what, into);
}

// Received rows land at their halo positions; in a full plan they arrive in halo order already.
at::Tensor HaloExchange::bcast_end(Pending pending) {
  const auto state = take(pending, true, "bcast_end");
  Stopwatch watch;
  wait(*state->transfer, state->tag);
  at::Tensor halo = state->into.defined() ? state->into : state->received;
  if (!recv_in_order_) {
    if (!state->into.defined()) halo = at::empty({plan_.num_halo, state->received.size(1)}, state->received.options());
    halo.zero_().index_copy_(0, recv_index_, state->received);
  }
  ExchangeCounters c;
  c.seconds = watch.seconds();
  count(state->tag, c);
  return halo;
}

at::Tensor HaloExchange::bcast(const at::Tensor& owned, int tag, const std::string& what, const at::Tensor& into) {
  return bcast_end(bcast_begin(owned, tag, what, into));
}

HaloExchange::Pending HaloExchange::reduce_begin(const at::Tensor& halo, int tag, const std::string& what) {
  return begin(false, halo, tag, what, {});
}

// owned[send_rows[i]] += received[i]. One index_add_ per peer, in rank order: a row several peers
// hold gets their sums in the same order on every run and device (no row repeats within a peer,
// HaloPlan::check, so no two adds of one call meet).
void HaloExchange::reduce_end(Pending pending, at::Tensor& owned) {
  const auto state = take(pending, false, "reduce_end");
  Stopwatch watch;
  const at::Tensor& received = state->received;
  if (!owned.defined() || owned.dim() != 2 || owned.size(0) != plan_.num_inner || owned.size(1) != received.size(1) ||
      owned.scalar_type() != received.scalar_type() || owned.device() != received.device()) {
    throw Error(fmt::format("rank {}: HaloExchange::reduce_end: owned must be a [{}, {}] {} tensor on {}, got {}",
                            comm_->rank(), plan_.num_inner, received.size(1), c10::toString(received.scalar_type()),
                            received.device().str(),
                            owned.defined() ? fmt::format("[{}] {} on {}", fmt::join(owned.sizes(), ", "),
                                                          c10::toString(owned.scalar_type()), owned.device().str())
                                            : "an undefined tensor"));
  }
  wait(*state->transfer, state->tag);
  for (int32_t j = 0; j < plan_.num_ranks; ++j) {
    const int64_t first = plan_.send_offsets[j], rows = plan_.rows_to(j);
    if (rows > 0) owned.index_add_(0, send_index_.narrow(0, first, rows), received.narrow(0, first, rows));
  }
  ExchangeCounters c;
  c.seconds = watch.seconds();
  count(state->tag, c);
}

void HaloExchange::reduce(const at::Tensor& halo, at::Tensor& owned, int tag, const std::string& what) {
  reduce_end(reduce_begin(halo, tag, what), owned);
}

}  // namespace halo
