#pragma once
// HaloPlan: who sends which rows to whom -- a star forest in PETSc's sense. Roots are this
// rank's inner (owned) rows, leaves its halo copies of other ranks' rows. Built once from a
// Shard's send/receive lists; a sampled epoch (BNS-GCN) uses a plan holding a subset.
#include <cstdint>
#include <string>
#include <vector>

#include "partition/shard.h"

namespace halo {

struct HaloPlan {
  int32_t rank = 0, num_ranks = 1;
  int64_t num_inner = 0, num_halo = 0;
  // Rows sent to peer j: inner rows send_rows[send_offsets[j] .. send_offsets[j+1]).
  // Rows received from peer j land at halo positions (0 = first halo row, i.e. local column
  // num_inner) recv_rows[recv_offsets[j] .. recv_offsets[j+1]), in the order j sends them.
  std::vector<int64_t> send_offsets, recv_offsets;  // num_ranks + 1 each
  std::vector<int32_t> send_rows, recv_rows;

  static HaloPlan from_shard(const Shard& shard);

  int64_t rows_to(int32_t peer) const { return send_offsets[peer + 1] - send_offsets[peer]; }
  int64_t rows_from(int32_t peer) const { return recv_offsets[peer + 1] - recv_offsets[peer]; }
  int64_t rows_sent() const { return send_offsets.back(); }
  int64_t rows_received() const { return recv_offsets.back(); }

  // Sizes, offsets and row ranges; throws Error prefixed by `where` naming the first violation.
  void check(const std::string& where) const;
};

}  // namespace halo
