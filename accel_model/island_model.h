#pragma once
// IslandModel: a graph islandized once, its aggregation counted with and without the window
// rule, and the latency of a GCN on it estimated for I-GCN and for the baseline accelerator.
#include <nlohmann/json.hpp>
#include <vector>

#include "accel_model/accel_config.h"
#include "accel_model/islandizer.h"
#include "accel_model/latency_model.h"
#include "accel_model/operation_counter.h"
#include "accel_model/window_cost.h"
#include "datasets/graph.h"

namespace halo {

struct Estimate {
  std::vector<LayerShape> shapes;
  std::vector<LayerOps> ops;
  Latency igcn, baseline;
  nlohmann::json to_json() const;
};

class IslandModel {
 public:
  // Islandizes `g` with config.islandizer() and counts its aggregation with config.window().
  IslandModel(const Graph& g, const AccelConfig& config);

  Estimate estimate(const std::vector<LayerShape>& layers) const;

  const Islands& islands() const { return islands_; }
  const AggregationCount& aggregation() const { return aggregation_; }
  // The most the window rule prunes on this graph (window_rule_bound), the sums in combination
  // or in aggregation; NaN for graphs too large to bound.
  double bound() const { return bound_; }
  double bound_with_sums() const { return bound_with_sums_; }
  const AccelConfig& config() const { return config_; }
  double islandize_seconds() const { return islandize_seconds_; }
  // Islands, hubs, rounds, re-reads, pruned aggregation.
  nlohmann::json to_json() const;

 private:
  AccelConfig config_;
  Islands islands_;
  AggregationCount aggregation_;
  GraphTraffic traffic_;
  double islandize_seconds_ = 0;
  double bound_ = 0, bound_with_sums_ = 0;
};

int64_t largest_island(const Islands& s);
// Islands by size: bucket b counts sizes in (2^(b-1), 2^b], so 1, 2, 3-4, 5-8, ... up to the
// largest island's bucket.
std::vector<int64_t> island_size_histogram(const Islands& s);

}  // namespace halo
