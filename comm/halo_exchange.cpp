#include "comm/halo_exchange.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/counter_rng.h"
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
  at::Tensor packed, received;  // [rows sent, F] (or their encoding), [rows received, F]
  at::Tensor into;              // the caller's destination: bcast's halo rows (optional), reduce's owned rows
  at::Tensor wire_in;           // compressed: the received bytes, decoded into `received` at the end
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

HaloExchange::HaloExchange(HaloPlan plan, std::shared_ptr<Communicator> comm)
    : plan_(std::move(plan)), comm_(std::move(comm)) {
  const std::string where = fmt::format("HaloExchange (rank {})", comm_->rank());
  plan_.check(where);
  if (plan_.rank != comm_->rank() || plan_.num_ranks != comm_->size()) {
    throw Error(fmt::format("{}: the plan is for rank {} of {}, the exchange is rank {} of {}", where, plan_.rank,
                            plan_.num_ranks, comm_->rank(), comm_->size()));
  }
  send_index_ = index_tensor(plan_.send_rows, comm_->device());
  recv_index_ = index_tensor(plan_.recv_rows, comm_->device());
  recv_in_order_ = plan_.rows_received() == plan_.num_halo;
  for (int64_t i = 0; i < plan_.rows_received() && recv_in_order_; ++i) recv_in_order_ = plan_.recv_rows[i] == i;
}

void HaloExchange::check_source(const char* name, bool bcast, const at::Tensor& source, int tag,
                                const std::string& what) const {
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
}

HaloExchange::Pending HaloExchange::begin(bool bcast, const at::Tensor& source, const at::Tensor& destination, int tag,
                                          const std::string& what) {
  Stopwatch watch;
  const char* name = bcast ? "bcast_begin" : "reduce_begin";
  check_source(name, bcast, source, tag, what);
  // Optional: bcast's contiguous [num_halo, F] halo rows, reduce's owned rows to add into.
  const int64_t to_rows = bcast ? plan_.num_halo : plan_.num_inner;
  if (destination.defined() &&
      (destination.dim() != 2 || destination.size(0) != to_rows || destination.size(1) != source.size(1) ||
       destination.scalar_type() != source.scalar_type() || destination.device() != source.device() ||
       (bcast && !destination.is_contiguous()))) {
    throw Error(fmt::format("rank {}: HaloExchange::{}: {} must be a {}[{}, {}] {} tensor on {}, got {} ({})",
                            comm_->rank(), name, bcast ? "halo" : "owned", bcast ? "contiguous " : "", to_rows,
                            source.size(1), c10::toString(source.scalar_type()), source.device().str(),
                            destination.defined()
                                ? fmt::format("[{}] {} on {}", fmt::join(destination.sizes(), ", "),
                                              c10::toString(destination.scalar_type()), destination.device().str())
                                : "an undefined tensor",
                            what));
  }
  const at::Tensor into = bcast ? destination : at::Tensor();
  // bcast sends owned rows send_rows and receives into recv_rows; reduce runs the other way.
  const std::vector<int64_t>& out = bcast ? plan_.send_offsets : plan_.recv_offsets;
  const std::vector<int64_t>& in = bcast ? plan_.recv_offsets : plan_.send_offsets;
  auto state = std::make_unique<Pending::State>();
  state->bcast = bcast;
  state->tag = tag;
  const int transfer_tag = 2 * tag + (bcast ? 0 : 1);
  const int64_t width = source.size(1);
  const at::Tensor& index = bcast ? send_index_ : recv_index_;
  state->into = destination;
  // The buffers live as long as the exchange in flight, no longer: an evaluation's full-halo
  // rows must not stay resident through the sampled epochs after it. (The caching allocator
  // hands the next epoch the same warm pages.)
  state->received =
      into.defined() && recv_in_order_ ? into.narrow(0, 0, in.back()) : at::empty({in.back(), width}, source.options());
  // What travels: the rows themselves, or their encoding (gathered and encoded in one pass).
  at::Tensor landing = state->received;
  if (precision_ == HaloPrecision::fp32) {
    state->packed = at::index_select(source, 0, index);
  } else {
    const int64_t bytes = wire_row_bytes(precision_, source);
    const at::TensorOptions wire = source.options().dtype(at::kByte);
    state->packed = at::empty({out.back(), bytes}, wire);
    encode_rows(source, index, precision_, stream_key(rounding_key_, comm_->rank(), transfer_tag), state->packed);
    landing = state->wire_in = at::empty({in.back(), bytes}, wire);
  }
  std::vector<at::Tensor> send(plan_.num_ranks), recv(plan_.num_ranks);
  int64_t messages = 0;
  for (int32_t j = 0; j < plan_.num_ranks; ++j) {
    send[j] = state->packed.narrow(0, out[j], out[j + 1] - out[j]);
    recv[j] = landing.narrow(0, in[j], in[j + 1] - in[j]);
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

void HaloExchange::unpack(Pending::State& state) const {
  if (state.wire_in.defined()) decode_rows(state.wire_in, precision_, state.received);
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

HaloExchange::Pending HaloExchange::bcast_begin(const at::Tensor& owned, const at::Tensor& halo, int tag,
                                                const std::string& what) {
  return begin(true, owned, halo, tag, what);
}

// Received rows land at their halo positions; in a full plan they arrive in halo order already.
at::Tensor HaloExchange::bcast_end(Pending pending) {
  const auto state = take(pending, true, "bcast_end");
  Stopwatch watch;
  wait(*state->transfer, state->tag);
  unpack(*state);
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

at::Tensor HaloExchange::bcast(const at::Tensor& owned, int tag, const std::string& what, const at::Tensor& halo) {
  return bcast_end(bcast_begin(owned, halo, tag, what));
}

at::Tensor HaloExchange::bcast_columns(const at::Tensor& owned, int tag, const std::string& what) {
  check_source("bcast_columns", true, owned, tag, what);
  at::Tensor out = at::empty({plan_.num_inner + plan_.num_halo, owned.size(1)}, owned.options());
  out.narrow(0, 0, plan_.num_inner).copy_(owned);
  bcast(owned, tag, what, out.narrow(0, plan_.num_inner, plan_.num_halo));
  return out;
}

void HaloExchange::bcast_by_peer(const at::Tensor& owned, int tag, const std::string& what,
                                 const std::function<void(int64_t first, const at::Tensor& rows)>& visit) {
  if (precision_ != HaloPrecision::fp32 || !recv_in_order_) {
    throw Error(
        fmt::format("rank {}: HaloExchange::bcast_by_peer needs fp32 rows and a plan that receives in halo "
                    "order (a full plan) ({})",
                    comm_->rank(), what));
  }
  // The checks of a whole bcast, with nothing sent.
  check_source("bcast_by_peer", true, owned, tag, what);
  const int32_t k = plan_.num_ranks, rank = plan_.rank;
  for (int32_t r = 1; r < k; ++r) {
    Stopwatch watch;
    const int32_t to = (rank + r) % k, from = (rank + k - r) % k;
    std::vector<at::Tensor> send(static_cast<size_t>(k)), recv(static_cast<size_t>(k));
    send[to] = owned.index_select(0, send_index_.narrow(0, plan_.send_offsets[to], plan_.rows_to(to)));
    recv[from] = at::empty({plan_.rows_from(from), owned.size(1)}, owned.options());
    const int64_t bytes = static_cast<int64_t>(send[to].nbytes()), rows = send[to].size(0);
    const std::unique_ptr<Transfer> transfer =
        comm_->start_exchange(send, recv, 2 * tag, fmt::format("{} (from rank {})", what, from));
    count(tag, {bytes, rows > 0, rows, watch.seconds()});
    wait(*transfer, tag);
    send[to] = at::Tensor();
    if (recv[from].size(0) > 0) visit(plan_.recv_offsets[from], recv[from]);
  }
}

HaloExchange::Pending HaloExchange::reduce_begin(const at::Tensor& halo, const at::Tensor& owned, int tag,
                                                 const std::string& what) {
  return begin(false, halo, owned, tag, what);
}

// owned[send_rows[i]] += received[i]. One index_add_ per peer, in rank order: a row several peers
// hold gets their sums in the same order on every run and device (no row repeats within a peer,
// HaloPlan::check, so no two adds of one call meet).
at::Tensor HaloExchange::reduce_end(Pending pending) {
  const auto state = take(pending, false, "reduce_end");
  Stopwatch watch;
  const at::Tensor& received = state->received;
  wait(*state->transfer, state->tag);
  unpack(*state);
  at::Tensor owned =
      state->into.defined() ? state->into : at::zeros({plan_.num_inner, received.size(1)}, received.options());
  for (int32_t j = 0; j < plan_.num_ranks; ++j) {
    const int64_t first = plan_.send_offsets[j], rows = plan_.rows_to(j);
    if (rows > 0) owned.index_add_(0, send_index_.narrow(0, first, rows), received.narrow(0, first, rows));
  }
  ExchangeCounters c;
  c.seconds = watch.seconds();
  count(state->tag, c);
  return owned;
}

void HaloExchange::reduce(const at::Tensor& halo, const at::Tensor& owned, int tag, const std::string& what) {
  reduce_end(reduce_begin(halo, owned, tag, what));
}

}  // namespace halo
