#include "accel_model/operation_counter.h"

namespace halo {

std::vector<LayerOps> count_layer_ops(const std::vector<LayerShape>& layers, const AggregationCount& aggregation) {
  std::vector<LayerOps> ops;
  for (const LayerShape& l : layers) {
    ops.push_back({l.input_nnz * l.out_features, aggregation.plain * l.out_features, aggregation.rows * l.out_features,
                   aggregation.combination_sums * l.out_features});
  }
  return ops;
}

}  // namespace halo
