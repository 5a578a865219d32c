#pragma once
// Latency of one inference on an accelerator model, layer by layer, two ways:
//   compute:  t_c = ops / (macs · clock) · calibration
//   roofline: max(t_c, bytes / bandwidth), where the bytes are what must cross the off-chip
//             interface once: the layer input (sparse or dense, whichever is smaller), the
//             weights, the adjacency (plus the islandizer's re-reads, once, in layer 0), the
//             output, and partial sums that do not fit the on-chip buffer.
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
  int64_t ops = 0, bytes = 0, spill_bytes = 0;
  double roofline_s() const { return compute_s > memory_s ? compute_s : memory_s; }
};

struct Latency {
  std::vector<LayerLatency> layers;
  double compute_s() const;
  double roofline_s() const;
  nlohmann::json to_json() const;
};

Latency estimate_latency(const AcceleratorOptions& accel, const std::vector<LayerShape>& shapes,
                         const std::vector<LayerOps>& ops, const GraphTraffic& graph);

}  // namespace halo
