#pragma once
// Partitioners: METIS k-way on the symmetrised graph (communication-volume objective by
// default) and a uniformly random, exactly balanced baseline.
#include <torch/arg.h>

#include <cstdint>
#include <string>

#include "datasets/dataset.h"
#include "partition/partition_map.h"

namespace halo {

enum class PartitionMethod { metis, random };
enum class PartitionObjective { volume, cut };

struct PartitionOptions {
  TORCH_ARG(int32_t, num_parts) = 2;
  TORCH_ARG(PartitionMethod, method) = PartitionMethod::metis;
  TORCH_ARG(PartitionObjective, objective) = PartitionObjective::volume;
  // Node counts are always balanced; these add METIS balance constraints.
  TORCH_ARG(bool, balance_edges) = false;
  TORCH_ARG(bool, balance_train) = false;
  // Largest part / mean part allowed per constraint (METIS ufactor = 1000 * (imbalance - 1)).
  TORCH_ARG(double, imbalance) = 1.03;
  TORCH_ARG(uint64_t, seed) = 0;
};

std::string to_string(PartitionMethod m);
std::string to_string(PartitionObjective o);

// `symmetric` is d.graph symmetrised without self-loops (the graph METIS cuts).
PartitionMap partition_metis(const Dataset& d, const Graph& symmetric, const PartitionOptions& options);
PartitionMap partition_random(int64_t num_nodes, const PartitionOptions& options);

}  // namespace halo
