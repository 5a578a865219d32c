#include "accel_model/island_model.h"

#include <algorithm>
#include <cmath>

#include "core/resources.h"

namespace halo {

nlohmann::json Estimate::to_json() const {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < shapes.size(); ++l) {
    layers.push_back({{"in_features", shapes[l].in_features},
                      {"out_features", shapes[l].out_features},
                      {"input_nnz", shapes[l].input_nnz},
                      {"combination_macs", ops[l].combination},
                      {"aggregation_macs", ops[l].aggregation_plain},
                      {"aggregation_macs_windowed", ops[l].aggregation_windowed},
                      {"window_sum_macs", ops[l].window_sums}});
  }
  return {{"layers", layers}, {"igcn", igcn.to_json()}, {"baseline", baseline.to_json()}};
}

IslandModel::IslandModel(const Graph& g, const AccelConfig& config) : config_(config) {
  check_accel_config(config);
  const Stopwatch clock;
  islands_ = islandize(g, config.islandizer());
  islandize_seconds_ = clock.seconds();
  aggregation_ = count_aggregation(g, islands_, config.window());
  bound_ = window_rule_bound(g, config.window(), false);
  bound_with_sums_ = window_rule_bound(g, config.window(), true);
  traffic_ = {g.num_nodes(), aggregation_.plain, islands_.rereads, static_cast<int64_t>(islands_.hubs.size()),
              static_cast<int64_t>(islands_.attached_hubs.size())};
}

Estimate IslandModel::estimate(const std::vector<LayerShape>& layers) const {
  Estimate e;
  e.shapes = layers;
  e.ops = count_layer_ops(layers, aggregation_);
  e.igcn = estimate_latency(config_.igcn(), layers, e.ops, traffic_);
  e.baseline = estimate_latency(config_.baseline(), layers, e.ops, traffic_);
  return e;
}

int64_t largest_island(const Islands& s) {
  int64_t largest = 0;
  for (int64_t i = 0; i < s.num_islands(); ++i) largest = std::max(largest, s.offsets[i + 1] - s.offsets[i]);
  return largest;
}

std::vector<int64_t> island_size_histogram(const Islands& s) {
  std::vector<int64_t> buckets;
  for (int64_t i = 0; i < s.num_islands(); ++i) {
    size_t b = 0;
    while ((int64_t{1} << b) < s.offsets[i + 1] - s.offsets[i]) ++b;
    if (buckets.size() <= b) buckets.resize(b + 1, 0);
    ++buckets[b];
  }
  return buckets;
}

namespace {
// NaN is not JSON: a bound too costly to compute is null.
nlohmann::json share_or_null(double share) { return std::isnan(share) ? nlohmann::json() : nlohmann::json(share); }
}  // namespace

nlohmann::json IslandModel::to_json() const {
  const Islands& s = islands_;
  const int64_t largest = largest_island(s);
  const auto island_nodes = static_cast<int64_t>(s.nodes.size());
  return {{"islands", s.num_islands()},
          {"island_nodes", island_nodes},
          {"mean_island_size", s.num_islands() > 0 ? static_cast<double>(island_nodes) / s.num_islands() : 0.0},
          {"largest_island", largest},
          {"hubs", s.hubs.size()},
          {"hub_edges", s.hub_edges},
          {"island_hub_pairs", s.attached_hubs.size()},
          {"rounds", s.rounds},
          {"tasks", s.tasks},
          {"dropped_tasks", s.dropped_tasks},
          {"rereads", s.rereads},
          {"islandize_seconds", islandize_seconds_},
          {"island_size_histogram", island_size_histogram(s)},
          {"aggregation_ops", aggregation_.plain},
          {"aggregation_ops_windowed", aggregation_.rows},
          {"window_sum_additions", aggregation_.combination_sums},
          {"pruned", aggregation_.pruned()},
          {"aggregation_ops_windowed_with_sums", aggregation_.windowed},
          {"window_sum_additions_with_sums", aggregation_.presums},
          {"pruned_with_sums", aggregation_.pruned_with_sums()},
          {"pruned_bound", share_or_null(bound_)},
          {"pruned_bound_with_sums", share_or_null(bound_with_sums_)},
          {"config", halo::to_json(config_)}};
}

}  // namespace halo
