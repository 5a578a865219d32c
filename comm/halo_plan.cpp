#include "comm/halo_plan.h"

#include <fmt/format.h>

#include "core/error.h"

namespace halo {
namespace {

std::string range_text(int64_t n, const char* what) {
  return n > 0 ? fmt::format("0..{}", n - 1) : fmt::format("there are no {}", what);
}

// offsets: num_ranks + 1 values rising from 0 to rows.size().
void check_offsets(const std::string& where, const char* name, const std::vector<int64_t>& offsets, int32_t num_ranks,
                   size_t rows) {
  if (offsets.size() != static_cast<size_t>(num_ranks) + 1) {
    throw Error(
        fmt::format("{}: {} has {} entries, expected num_ranks + 1 = {}", where, name, offsets.size(), num_ranks + 1));
  }
  if (offsets.front() != 0) throw Error(fmt::format("{}: {}[0] = {}, expected 0", where, name, offsets.front()));
  for (int32_t j = 0; j < num_ranks; ++j) {
    if (offsets[j + 1] < offsets[j]) {
      throw Error(
          fmt::format("{}: {}[{}] = {} is below {}[{}] = {}", where, name, j + 1, offsets[j + 1], name, j, offsets[j]));
    }
  }
  if (offsets.back() != static_cast<int64_t>(rows)) {
    throw Error(
        fmt::format("{}: {}[{}] = {} but the row list has {} entries", where, name, num_ranks, offsets.back(), rows));
  }
}

}  // namespace

HaloPlan HaloPlan::from_shard(const Shard& shard) {
  HaloPlan plan;
  plan.rank = shard.part;
  plan.num_ranks = shard.num_parts;
  plan.num_inner = shard.num_inner();
  plan.num_halo = shard.num_halo();
  plan.send_offsets = shard.send_offsets;
  plan.recv_offsets = shard.recv_offsets;
  plan.send_rows = shard.send_rows;
  // The shard names local columns [inner | halo]; the plan names halo positions.
  plan.recv_rows.reserve(shard.recv_rows.size());
  for (size_t i = 0; i < shard.recv_rows.size(); ++i) {
    const int64_t column = shard.recv_rows[i];
    if (column < plan.num_inner || column >= plan.num_inner + plan.num_halo) {
      throw Error(fmt::format("HaloPlan (rank {}): shard recv_rows[{}] = {} is not a halo column ({}..{})", plan.rank,
                              i, column, plan.num_inner, plan.num_inner + plan.num_halo - 1));
    }
    plan.recv_rows.push_back(static_cast<int32_t>(column - plan.num_inner));
  }
  plan.check(fmt::format("HaloPlan (rank {})", plan.rank));
  return plan;
}

// A star forest: each halo position has at most one root (so bcast writes it once), and a peer
// asks for each owned row at most once (so the per-peer adds of reduce never collide).
void HaloPlan::check(const std::string& where) const {
  if (num_ranks < 1 || rank < 0 || rank >= num_ranks) {
    throw Error(fmt::format("{}: rank {} is not in 0..num_ranks-1 (num_ranks = {})", where, rank, num_ranks));
  }
  if (num_inner < 0 || num_halo < 0) {
    throw Error(fmt::format("{}: num_inner = {} and num_halo = {} must not be negative", where, num_inner, num_halo));
  }
  check_offsets(where, "send_offsets", send_offsets, num_ranks, send_rows.size());
  check_offsets(where, "recv_offsets", recv_offsets, num_ranks, recv_rows.size());
  std::vector<int32_t> last_peer(num_inner, -1);
  for (int32_t j = 0; j < num_ranks; ++j) {
    for (int64_t i = send_offsets[j]; i < send_offsets[j + 1]; ++i) {
      const int32_t row = send_rows[i];
      if (row < 0 || row >= num_inner) {
        throw Error(fmt::format("{}: send_rows[{}] = {} is not an inner row ({})", where, i, row,
                                range_text(num_inner, "inner rows")));
      }
      if (last_peer[row] == j) {
        throw Error(fmt::format("{}: send_rows[{}] = {} is sent to peer {} twice", where, i, row, j));
      }
      last_peer[row] = j;
    }
  }
  std::vector<int64_t> first_use(num_halo, -1);
  for (size_t i = 0; i < recv_rows.size(); ++i) {
    const int32_t p = recv_rows[i];
    if (p < 0 || p >= num_halo) {
      throw Error(fmt::format("{}: recv_rows[{}] = {} is not a halo position ({})", where, i, p,
                              range_text(num_halo, "halo rows")));
    }
    if (first_use[p] >= 0) {
      throw Error(fmt::format("{}: recv_rows[{}] = {} repeats recv_rows[{}]", where, i, p, first_use[p]));
    }
    first_use[p] = static_cast<int64_t>(i);
  }
}

}  // namespace halo
