#include <algorithm>
#include <numeric>

#include "core/counter_rng.h"
#include "partition/partitioner.h"

namespace halo {

// A seeded Fisher-Yates shuffle dealt round-robin: parts differ in size by at most one node.
PartitionMap partition_random(int64_t num_nodes, const PartitionOptions& options) {
  std::vector<int32_t> order(num_nodes);
  std::iota(order.begin(), order.end(), 0);
  CounterRng rng(stream_key(options.seed(), 0x7261'6e64));
  for (int64_t i = num_nodes - 1; i > 0; --i) {
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  }
  std::vector<int32_t> assignment(num_nodes);
  for (int64_t i = 0; i < num_nodes; ++i) assignment[order[i]] = static_cast<int32_t>(i % options.num_parts());
  return PartitionMap(std::move(assignment), options.num_parts());
}

}  // namespace halo
