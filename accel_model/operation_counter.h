#pragma once
// Multiply-accumulate counts of GCN inference, layer by layer, in I-GCN's order: combination
// first, then aggregation at the (narrower) output width, y = (A + I) · (x · W).
#include <cstdint>
#include <vector>

#include "accel_model/window_cost.h"

namespace halo {

// What one layer computes on: x is [nodes, in_features] with input_nnz non-zeros (raw
// features for layer 0, the previous layer's activations after it).
struct LayerShape {
  int64_t in_features = 0, out_features = 0, input_nnz = 0;
};

struct LayerOps {
  // Combination skips zero inputs: input_nnz · out_features MACs.
  int64_t combination = 0;
  // Aggregation: one vector operation of out_features MACs per count of `AggregationCount`
  // (windowed: its `rows`, the paper's convention).
  int64_t aggregation_plain = 0, aggregation_windowed = 0;
  // I-GCN's window sums, formed during combination: out_features additions each.
  int64_t window_sums = 0;

  int64_t igcn() const { return combination + window_sums + aggregation_windowed; }
  int64_t baseline() const { return combination + aggregation_plain; }
};

std::vector<LayerOps> count_layer_ops(const std::vector<LayerShape>& layers, const AggregationCount& aggregation);

}  // namespace halo
