#include <ATen/Functions.h>
#include <fmt/format.h>
#include <metis.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "partition/partitioner.h"

namespace halo {
namespace {

const char* metis_status(int status) {
  switch (status) {
    case METIS_ERROR_INPUT:
      return "invalid input";
    case METIS_ERROR_MEMORY:
      return "out of memory";
    default:
      return "internal error";
  }
}

}  // namespace

std::string to_string(PartitionMethod m) { return m == PartitionMethod::metis ? "metis" : "random"; }
std::string to_string(PartitionObjective o) { return o == PartitionObjective::volume ? "vol" : "cut"; }

PartitionMap partition_metis(const Dataset& d, const Graph& symmetric, const PartitionOptions& options) {
  const int32_t k = options.num_parts();
  idx_t n = symmetric.num_nodes();
  if (k == 1 || n == 0) return PartitionMap(std::vector<int32_t>(n, 0), k);
  if (symmetric.num_edges() > std::numeric_limits<idx_t>::max()) {
    throw Error(
        fmt::format("METIS (32-bit idx_t) cannot hold {} directed edges; use --method random", symmetric.num_edges()));
  }
  static_assert(sizeof(idx_t) == sizeof(int32_t), "METIS built with 32-bit idx_t expected");
  std::vector<idx_t> xadj(symmetric.offsets().begin(), symmetric.offsets().end());
  auto* adjncy = const_cast<idx_t*>(symmetric.indices().data());

  // One weight per balance constraint and node: 1 (node count), in-degree, in training set.
  idx_t ncon = 1 + (options.balance_edges() ? 1 : 0) + (options.balance_train() ? 1 : 0);
  std::vector<idx_t> vwgt(static_cast<size_t>(n) * ncon);
  const bool* train = d.train_mask.data_ptr<bool>();
  if (options.balance_train() && !d.train_mask.any().item<bool>()) {
    throw Error("--balance train: the dataset has no training nodes");
  }
  for (idx_t v = 0; v < n; ++v) {
    idx_t c = 0;
    vwgt[v * ncon + c++] = 1;
    if (options.balance_edges()) vwgt[v * ncon + c++] = static_cast<idx_t>(d.graph.in_degree(v));
    if (options.balance_train()) vwgt[v * ncon + c++] = train[v] ? 1 : 0;
  }

  idx_t opts[METIS_NOPTIONS];
  METIS_SetDefaultOptions(opts);
  opts[METIS_OPTION_OBJTYPE] =
      options.objective() == PartitionObjective::volume ? METIS_OBJTYPE_VOL : METIS_OBJTYPE_CUT;
  opts[METIS_OPTION_NUMBERING] = 0;
  opts[METIS_OPTION_SEED] = static_cast<idx_t>(options.seed() & 0x7fffffff);
  opts[METIS_OPTION_UFACTOR] = static_cast<idx_t>(std::lround(1000.0 * (options.imbalance() - 1.0)));
  idx_t nparts = k, objval = 0;
  std::vector<idx_t> part(n);
  const int status = METIS_PartGraphKway(&n, &ncon, xadj.data(), adjncy, vwgt.data(), nullptr, nullptr, &nparts,
                                         nullptr, nullptr, opts, &objval, part.data());
  if (status != METIS_OK) {
    throw Error(fmt::format("METIS k-way partitioning into {} parts failed: {}", k, metis_status(status)));
  }
  return PartitionMap(std::vector<int32_t>(part.begin(), part.end()), k);
}

}  // namespace halo
