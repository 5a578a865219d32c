#include "sampling/shard_block.h"

#include <fmt/format.h>

#include "core/error.h"

namespace halo {

Block shard_block(const Shard& shard, std::vector<int64_t> column_ids) {
  Csr a;
  a.cols = shard.num_inner() + shard.num_halo();
  a.offsets = shard.offsets;
  a.indices = shard.indices;
  for (int64_t i = 0; i < shard.num_inner(); ++i) {
    for (int64_t e = a.offsets[i]; e < a.offsets[i + 1]; ++e) {
      if (a.indices[e] == i) {
        throw Error(
            fmt::format("part {}: inner row {} has a self-loop; this partition was written by an older "
                        "Halo, run `halo partition` again",
                        shard.part, i));
      }
    }
  }
  return Block(std::move(a), shard.in_degree, shard.out_degree, std::move(column_ids));
}

}  // namespace halo
