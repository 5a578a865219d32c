#include "partition/partition_map.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace halo {

PartitionMap::PartitionMap(std::vector<int32_t> assignment, int32_t num_parts)
    : assignment_(std::move(assignment)), begin_(static_cast<size_t>(num_parts) + 1, 0) {
  if (num_parts < 1) throw Error(fmt::format("a partition needs at least one part, got {}", num_parts));
  const int64_t n = num_nodes();
  for (int64_t v = 0; v < n; ++v) {
    const int32_t k = assignment_[v];
    if (k < 0 || k >= num_parts) {
      throw Error(fmt::format("node {} is assigned to part {}, outside [0, {})", v, k, num_parts));
    }
    ++begin_[k + 1];
  }
  for (int32_t k = 0; k < num_parts; ++k) begin_[k + 1] += begin_[k];
  // Counting sort by part keeps original order inside a part.
  new_of_old_.resize(n);
  old_of_new_.resize(n);
  std::vector<int64_t> next(begin_.begin(), begin_.end() - 1);
  for (int64_t v = 0; v < n; ++v) {
    const int64_t id = next[assignment_[v]]++;
    new_of_old_[v] = static_cast<int32_t>(id);
    old_of_new_[id] = static_cast<int32_t>(v);
  }
}

int32_t PartitionMap::owner(int32_t new_id) const {
  return static_cast<int32_t>(std::upper_bound(begin_.begin(), begin_.end(), int64_t{new_id}) - begin_.begin()) - 1;
}

}  // namespace halo
