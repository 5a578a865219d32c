#pragma once
// Cuts a Dataset into Shards along a PartitionMap.
#include <cstdint>
#include <vector>

#include "datasets/dataset.h"
#include "partition/partition_map.h"
#include "partition/shard.h"

namespace halo {

// Halo of each part: the sorted new ids of the in-neighbours of its inner nodes that other
// parts own. Their total is the communication volume (rows received per layer).
std::vector<std::vector<int32_t>> halo_lists(const Graph& g, const PartitionMap& map);

// Part `part`'s shard; `halos` from halo_lists(), degrees are d.graph's full-graph degrees.
Shard build_shard(const Dataset& d, const PartitionMap& map, int32_t part,
                  const std::vector<std::vector<int32_t>>& halos, const std::vector<int32_t>& in_degree,
                  const std::vector<int32_t>& out_degree);

}  // namespace halo
