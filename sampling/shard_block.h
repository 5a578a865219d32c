#pragma once
// The Block of a Shard: its inner rows over all its columns [inner | halo], with full-graph
// degrees. `column_ids` names every column by its id in the source dataset (the key of per-node
// randomness), so a part draws the same dropout masks as one process on the whole graph.
#include <cstdint>
#include <vector>

#include "partition/shard.h"
#include "sampling/block.h"

namespace halo {

Block shard_block(const Shard& shard, std::vector<int64_t> column_ids);

}  // namespace halo
