#pragma once
// A partition directory (DGL's layout): meta.json describes the whole partition, part-<k>/
// holds part k's Shard, so each rank reads only its own files. meta.json is written last:
// a folder without it is not a complete partition. meta.json records the hash of the dataset
// it was cut from and a partition id (a hash of that and the node assignment) that every shard
// repeats, so a reader refuses a shard of another partitioning or a source that changed since.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "partition/partition_stats.h"
#include "partition/partitioner.h"
#include "partition/shard.h"

namespace halo {

// 2: partition_id, dataset.hash and an absolute dataset.source.
constexpr int kPartitionFormatVersion = 2;

struct PartitionMeta {
  std::string dir;
  std::string dataset;
  std::string source;        // a path (absolute) or a preset spec or a folder name under $HALO_DATA
  std::string dataset_hash;  // content_hash of the dataset, as hash_string writes it
  std::string partition_id;
  int32_t num_parts = 0;
  int64_t num_nodes = 0, num_edges = 0, num_features = 0, num_classes = 0;
  std::vector<int64_t> part_starts;  // num_parts + 1 new-id boundaries
  PartitionStats stats;
  nlohmann::json json;  // the whole file

  std::string shard_path(int32_t part) const;
};

// Refuses (UsageError) a `dir` write_partition must not write into: a non-empty folder that holds
// no Halo partition, or one that does without `overwrite`. `what` names the path in messages ("-o").
// Cheap: a command calls it before loading the dataset.
void check_partition_output(const std::string& dir, bool overwrite, const std::string& what = "output folder");

// Partitions `d`, writes `dir` and returns the statistics (also stored in meta.json).
// `source` records where the dataset came from (a path, made absolute, or a preset spec).
// Refuses (UsageError) a partition that leaves a part empty; warns when the largest part
// exceeds the mean by more than options.imbalance. `dir` is checked as check_partition_output
// does; an earlier partition there (`overwrite`) loses only the files its meta.json lists, once
// the new one is complete; a failed write removes what it wrote.
PartitionStats write_partition(const Dataset& d, const PartitionOptions& options, const std::string& dir,
                               const std::string& source, bool overwrite = false);

// Reads and validates meta.json; errors name the file and the field.
PartitionMeta read_partition_meta(const std::string& dir);

// Reads part `part` only, checked against meta.json (partition id, sizes, ranges, values).
Shard load_shard(const PartitionMeta& meta, int32_t part);

// Loads the dataset meta.json's dataset.source names and checks it is the one partitioned
// (counts and content hash); errors name meta.json, the field and both values.
Dataset load_partition_source(const PartitionMeta& meta);

}  // namespace halo
