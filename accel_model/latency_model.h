#pragma once
// Latency of one inference on an accelerator model, layer by layer:
//   compute: ops / (macs · clock) · calibration, calibration = 1 / the MAC array's utilisation;
//   memory:  off-chip bytes / bandwidth;
//   layer:   max(compute, memory), the two overlapping.
// A layer whose working set (its input, sparse or dense, whichever is smaller; weights;
// adjacency; output) fits the on-chip buffer is resident: nothing crosses the off-chip interface
// (the paper's Cora and PubMed latencies are below one pass of their inputs over the board's
// memory, so it counts them as loaded). Otherwise the working set streams in once, with the
// islandizer's re-reads in layer 0 and the partial sums that do not fit the buffer, read and
// written again at each update (I-GCN: the hubs'; the baseline: every row's).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "accel_model/accel_config.h"
#include "accel_model/operation_counter.h"

namespace halo {

// The graph side of the memory traffic.
struct GraphTraffic {
  int64_t nodes = 0;
  int64_t adjacency_entries = 0;  // entries of A + I
  int64_t rereads = 0;            // adjacency entries the islandizer read again
  int64_t hubs = 0;
  int64_t island_hub_pairs = 0;  // (island, attached hub) pairs: one hub partial sum each
};

struct LayerLatency {
  double compute_s = 0, memory_s = 0;
  int64_t ops = 0;
  int64_t working_set = 0;  // bytes
  int64_t bytes = 0;        // off chip: 0 when the working set is resident
  int64_t spill_bytes = 0;  // partial sums' share of `bytes`
  double seconds() const { return compute_s > memory_s ? compute_s : memory_s; }
};

struct Latency {
  std::vector<LayerLatency> layers;
  double seconds() const;
  double compute_s() const;
  int64_t off_chip_bytes() const;
  nlohmann::json to_json() const;
};

Latency estimate_latency(const AcceleratorOptions& accel, const std::vector<LayerShape>& shapes,
                         const std::vector<LayerOps>& ops, const GraphTraffic& graph);

}  // namespace halo
