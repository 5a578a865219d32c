#pragma once
// PartitionMap: which part owns each node, and the relabelling that gives every part a
// contiguous range of new ids (DGL's layout): new ids are ordered by (part, original id), so
// the owner of a new id is a binary search over part starts and global -> local is a
// subtraction.
#include <cstdint>
#include <vector>

namespace halo {

class PartitionMap {
 public:
  // `assignment[v]` is the part of original node v, in [0, num_parts).
  PartitionMap(std::vector<int32_t> assignment, int32_t num_parts);

  int32_t num_parts() const { return static_cast<int32_t>(begin_.size()) - 1; }
  int64_t num_nodes() const { return static_cast<int64_t>(assignment_.size()); }
  const std::vector<int32_t>& assignment() const { return assignment_; }

  int32_t part_of(int32_t original) const { return assignment_[original]; }
  int32_t new_id(int32_t original) const { return new_of_old_[original]; }
  int32_t original_id(int32_t new_id) const { return old_of_new_[new_id]; }
  // Owner of a new id.
  int32_t owner(int32_t new_id) const;

  // New ids of part k are [part_begin(k), part_begin(k + 1)).
  int64_t part_begin(int32_t k) const { return begin_[k]; }
  int64_t part_size(int32_t k) const { return begin_[k + 1] - begin_[k]; }
  const std::vector<int64_t>& part_starts() const { return begin_; }

 private:
  std::vector<int32_t> assignment_, new_of_old_, old_of_new_;
  std::vector<int64_t> begin_;
};

}  // namespace halo
