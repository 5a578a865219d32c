#pragma once
// Graph: compressed sparse rows over in-edges. Row v lists the sources u of edges u -> v,
// sorted ascending and without duplicates. Offsets are 64-bit (billions of edges); node ids
// are 32-bit, so a graph holds at most 2^31 - 1 nodes (checked when built).
#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <vector>

namespace halo {

constexpr int64_t kMaxNodes = INT32_MAX;

// Throws Error if `num_nodes` does not fit Halo's 32-bit node ids; `where` names the source.
void check_node_count(int64_t num_nodes, const std::string& where);

// Directed edges src[i] -> dst[i] over nodes [0, num_nodes).
struct EdgeList {
  int64_t num_nodes = 0;
  std::vector<int32_t> src, dst;
};

enum class SelfLoops { keep, add, remove };

struct GraphOptions {
  // Also add v -> u for every u -> v.
  TORCH_ARG(bool, symmetrize) = false;
  TORCH_ARG(SelfLoops, self_loops) = SelfLoops::keep;
};

class Graph {
 public:
  // The sources of one destination row, as a range.
  struct Row {
    const int32_t* first;
    const int32_t* last;
    const int32_t* begin() const { return first; }
    const int32_t* end() const { return last; }
    int64_t size() const { return last - first; }
  };

  Graph() : offsets_{0} {}
  // Takes ready CSR arrays; check()s them.
  Graph(std::vector<int64_t> offsets, std::vector<int32_t> indices);
  // Builds the CSR of `edges` in parallel; duplicate edges are dropped.
  static Graph from_edges(const EdgeList& edges, const GraphOptions& options = {});

  int32_t num_nodes() const { return static_cast<int32_t>(offsets_.size() - 1); }
  int64_t num_edges() const { return static_cast<int64_t>(indices_.size()); }
  Row in_neighbors(int32_t v) const { return {indices_.data() + offsets_[v], indices_.data() + offsets_[v + 1]}; }
  int64_t in_degree(int32_t v) const { return offsets_[v + 1] - offsets_[v]; }
  const std::vector<int64_t>& offsets() const { return offsets_; }
  const std::vector<int32_t>& indices() const { return indices_; }

  std::vector<int32_t> in_degrees() const;
  std::vector<int32_t> out_degrees() const;
  int64_t num_self_loops() const;
  // True if every edge u -> v has its reverse v -> u.
  bool is_symmetric() const;

  Graph symmetrized() const;
  Graph with_self_loops(SelfLoops mode) const;
  EdgeList to_edges() const;

  // Verifies the CSR invariants (offsets start at 0, never decrease and end at the edge
  // count; ids in range; rows sorted without duplicates); throws Error naming the first
  // violation.
  void check() const;

  bool operator==(const Graph& other) const { return offsets_ == other.offsets_ && indices_ == other.indices_; }

 private:
  std::vector<int64_t> offsets_;
  std::vector<int32_t> indices_;
};

}  // namespace halo
