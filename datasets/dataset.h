#pragma once
// Dataset: a Graph plus everything node classification needs.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/graph.h"

namespace halo {

struct Dataset {
  std::string name;
  Graph graph;
  at::Tensor features;                         // [N, F] float32
  at::Tensor labels;                           // [N] int64 in [0, num_classes), or -1 for an unlabelled node
  at::Tensor train_mask, val_mask, test_mask;  // [N] bool
  int64_t num_classes = 0;

  int64_t num_nodes() const { return graph.num_nodes(); }
  int64_t num_features() const { return features.defined() ? features.size(1) : 0; }

  // check_node_data on the graph's node count. Throws Error prefixed by `where`.
  void check(const std::string& where) const;
};

constexpr int64_t kMaxClasses = 1 << 16;

// The value checks every loader applies (plain text, binary cache, OGB, generators, shards), so
// no format accepts what another refuses: shapes and dtypes for `n` nodes, finite features,
// labels in [0, num_classes) or -1 (unlabelled), num_classes in [0, kMaxClasses], every node in a
// split labelled, and train/val/test disjoint. Throws Error prefixed by `where` naming the field,
// the first offending node and what was expected.
void check_node_data(const std::string& where, int64_t n, int64_t num_classes, const at::Tensor& features,
                     const at::Tensor& labels, const at::Tensor& train_mask, const at::Tensor& val_mask,
                     const at::Tensor& test_mask);

// Boolean mask of length n with `ids` set.
at::Tensor mask_from_ids(const std::vector<int64_t>& ids, int64_t n);

// Rows scaled to sum to 1 (Kipf & Welling's preprocessing); all-zero rows stay zero.
at::Tensor row_normalized(const at::Tensor& features);

// One-line summary: name, sizes and split.
std::string describe(const Dataset& d);

}  // namespace halo
