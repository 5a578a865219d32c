#pragma once
// A partition directory (DGL's layout): meta.json describes the whole partition, part-<k>/
// holds part k's Shard, so each rank reads only its own files. meta.json is written last:
// a folder without it is not a complete partition.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "partition/partition_stats.h"
#include "partition/partitioner.h"
#include "partition/shard.h"

namespace halo {

constexpr int kPartitionFormatVersion = 1;

struct PartitionMeta {
  std::string dir;
  std::string dataset;
  int32_t num_parts = 0;
  int64_t num_nodes = 0, num_edges = 0, num_features = 0, num_classes = 0;
  std::vector<int64_t> part_starts;  // num_parts + 1 new-id boundaries
  PartitionStats stats;
  nlohmann::json json;  // the whole file

  std::string shard_path(int32_t part) const;
};

// Partitions `d`, writes `dir` and returns the statistics (also stored in meta.json).
// `source` records where the dataset came from (a path or a preset spec).
PartitionStats write_partition(const Dataset& d, const PartitionOptions& options, const std::string& dir,
                               const std::string& source);

// Reads and validates meta.json; errors name the file and the field.
PartitionMeta read_partition_meta(const std::string& dir);

// Reads part `part` only, checked against meta.json.
Shard load_shard(const PartitionMeta& meta, int32_t part);

}  // namespace halo
