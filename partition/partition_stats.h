#pragma once
// What a partition costs: cut edges, communication volume, balance, time and memory.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/graph.h"
#include "partition/partition_map.h"

namespace halo {

struct PartStats {
  int64_t inner = 0, halo = 0, edges = 0, train = 0, val = 0, test = 0;
};

struct PartitionStats {
  std::vector<PartStats> parts;
  int64_t edge_cut = 0;                           // undirected edges of the symmetrised graph joining two parts
  int64_t comm_volume = 0;                        // sum of halo sizes: rows every part receives per layer
  double node_imbalance = 1, edge_imbalance = 1;  // largest part / mean part
  double partition_seconds = 0;                   // the partitioner alone
  double total_seconds = 0;                       // partitioner + shards written
  int64_t peak_rss_bytes = 0;                     // during partitioning, the loaded dataset included

  // Fills the imbalance figures from `parts`.
  void summarise();
  nlohmann::json to_json() const;
  static PartitionStats from_json(const nlohmann::json& j);
  // A human-readable report: one row per part and the totals.
  std::string report() const;
};

int64_t edge_cut(const Graph& symmetric, const PartitionMap& map);

}  // namespace halo
