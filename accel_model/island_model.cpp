#include "accel_model/island_model.h"

#include <algorithm>

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
                      {"aggregation_macs_windowed", ops[l].aggregation_windowed}});
  }
  return {{"layers", layers}, {"igcn", igcn.to_json()}, {"baseline", baseline.to_json()}};
}

IslandModel::IslandModel(const Graph& g, const AccelConfig& config) : config_(config) {
  check_accel_config(config);
  const Stopwatch clock;
  islands_ = islandize(g, config.islandizer());
  islandize_seconds_ = clock.seconds();
  aggregation_ = count_aggregation(g, islands_, config.window());
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

nlohmann::json IslandModel::to_json() const {
  const Islands& s = islands_;
  int64_t largest = 0;
  for (int64_t i = 0; i < s.num_islands(); ++i) largest = std::max(largest, s.offsets[i + 1] - s.offsets[i]);
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
          {"aggregation_ops", aggregation_.plain},
          {"aggregation_ops_windowed", aggregation_.windowed},
          {"window_sums", aggregation_.presums},
          {"pruned", aggregation_.pruned()},
          {"config", halo::to_json(config_)}};
}

}  // namespace halo
