#include "accel_model/latency_model.h"

#include <algorithm>

namespace halo {
namespace {

constexpr int64_t kWord = 4;  // float32 values and int32 ids

// Bytes of partial-sum traffic when `resident` bytes of partial sums compete for the buffer:
// the share that does not fit is read and written back at each of its `updates` vector updates.
int64_t spill_bytes(int64_t resident, int64_t buffer, int64_t updates, int64_t width) {
  if (resident <= buffer) return 0;
  const double off_chip = 1.0 - static_cast<double>(buffer) / static_cast<double>(resident);
  return static_cast<int64_t>(off_chip * static_cast<double>(updates * width * kWord * 2));
}

}  // namespace

double Latency::seconds() const {
  double t = 0;
  for (const LayerLatency& l : layers) t += l.seconds();
  return t;
}

double Latency::compute_s() const {
  double t = 0;
  for (const LayerLatency& l : layers) t += l.compute_s;
  return t;
}

int64_t Latency::off_chip_bytes() const {
  int64_t b = 0;
  for (const LayerLatency& l : layers) b += l.bytes;
  return b;
}

nlohmann::json Latency::to_json() const {
  nlohmann::json j = {{"seconds", seconds()},
                      {"compute_s", compute_s()},
                      {"off_chip_bytes", off_chip_bytes()},
                      {"layers", nlohmann::json::array()}};
  for (const LayerLatency& l : layers) {
    j["layers"].push_back({{"ops", l.ops},
                           {"compute_s", l.compute_s},
                           {"working_set_bytes", l.working_set},
                           {"off_chip_bytes", l.bytes},
                           {"spill_bytes", l.spill_bytes},
                           {"memory_s", l.memory_s}});
  }
  return j;
}

Latency estimate_latency(const AcceleratorOptions& a, const std::vector<LayerShape>& shapes,
                         const std::vector<LayerOps>& ops, const GraphTraffic& g) {
  const double macs_per_s = static_cast<double>(a.macs()) * a.clock_mhz() * 1e6;
  const double bytes_per_s = a.bandwidth_gb_per_s() * 1e9;
  Latency latency;
  for (size_t l = 0; l < shapes.size(); ++l) {
    const LayerShape& s = shapes[l];
    LayerLatency t;
    t.ops = a.islandization() ? ops[l].igcn() : ops[l].baseline();
    t.compute_s = static_cast<double>(t.ops) / macs_per_s * a.calibration();
    const int64_t input = std::min(g.nodes * s.in_features, 2 * s.input_nnz) * kWord;
    const int64_t adjacency = (g.adjacency_entries + g.nodes) * kWord;
    t.working_set = input + s.in_features * s.out_features * kWord + adjacency + g.nodes * s.out_features * kWord;
    if (t.working_set > a.on_chip_bytes()) {
      // I-GCN keeps only hubs' partial sums across islands; the baseline keeps every row's.
      t.spill_bytes =
          a.islandization()
              ? spill_bytes(g.hubs * s.out_features * kWord, a.on_chip_bytes(), g.island_hub_pairs, s.out_features)
              : spill_bytes(g.nodes * s.out_features * kWord, a.on_chip_bytes(), g.adjacency_entries, s.out_features);
      const int64_t rereads = l == 0 && a.islandization() ? g.rereads * kWord : 0;
      t.bytes = t.working_set + rereads + t.spill_bytes;
    }
    t.memory_s = static_cast<double>(t.bytes) / bytes_per_s;
    latency.layers.push_back(t);
  }
  return latency;
}

}  // namespace halo
