#include "partition/partition_stats.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>

#include "core/json_integer.h"

namespace halo {
namespace {

template <class Field>
double imbalance(const std::vector<PartStats>& parts, Field field) {
  int64_t total = 0, largest = 0;
  for (const PartStats& p : parts) {
    total += field(p);
    largest = std::max(largest, field(p));
  }
  return total == 0 ? 1.0
                    : static_cast<double>(largest) * static_cast<double>(parts.size()) / static_cast<double>(total);
}

}  // namespace

int64_t edge_cut(const Graph& symmetric, const PartitionMap& map) {
  return tbb::parallel_reduce(
      tbb::blocked_range<int32_t>(0, symmetric.num_nodes()), int64_t{0},
      [&](const tbb::blocked_range<int32_t>& r, int64_t cut) {
        for (int32_t v = r.begin(); v != r.end(); ++v) {
          for (int32_t u : symmetric.in_neighbors(v)) cut += (u < v && map.part_of(u) != map.part_of(v)) ? 1 : 0;
        }
        return cut;
      },
      std::plus<int64_t>());
}

void PartitionStats::summarise() {
  comm_volume = 0;
  for (const PartStats& p : parts) comm_volume += p.halo;
  node_imbalance = imbalance(parts, [](const PartStats& p) { return p.inner; });
  edge_imbalance = imbalance(parts, [](const PartStats& p) { return p.edges; });
}

nlohmann::json PartitionStats::to_json() const {
  nlohmann::json per_part = nlohmann::json::array();
  for (const PartStats& p : parts) {
    per_part.push_back({{"inner", p.inner},
                        {"halo", p.halo},
                        {"edges", p.edges},
                        {"train", p.train},
                        {"val", p.val},
                        {"test", p.test}});
  }
  return {{"parts", per_part},
          {"edge_cut", edge_cut},
          {"comm_volume", comm_volume},
          {"node_imbalance", node_imbalance},
          {"edge_imbalance", edge_imbalance},
          {"partition_seconds", partition_seconds},
          {"total_seconds", total_seconds},
          {"peak_rss_bytes", peak_rss_bytes}};
}

PartitionStats PartitionStats::from_json(const nlohmann::json& j) {
  PartitionStats s;
  for (const auto& p : j.at("parts")) {
    s.parts.push_back({json_integer<int64_t>(p.at("inner")), json_integer<int64_t>(p.at("halo")),
                       json_integer<int64_t>(p.at("edges")), json_integer<int64_t>(p.at("train")),
                       json_integer<int64_t>(p.at("val")), json_integer<int64_t>(p.at("test"))});
  }
  s.edge_cut = json_integer<int64_t>(j.at("edge_cut"));
  s.comm_volume = json_integer<int64_t>(j.at("comm_volume"));
  s.node_imbalance = j.at("node_imbalance").get<double>();
  s.edge_imbalance = j.at("edge_imbalance").get<double>();
  s.partition_seconds = j.at("partition_seconds").get<double>();
  s.total_seconds = j.at("total_seconds").get<double>();
  s.peak_rss_bytes = json_integer<int64_t>(j.at("peak_rss_bytes"));
  return s;
}

std::string PartitionStats::report() const {
  std::string out = fmt::format("{:>5} {:>10} {:>10} {:>12} {:>8} {:>8} {:>8}\n", "part", "inner", "halo", "edges",
                                "train", "val", "test");
  for (size_t k = 0; k < parts.size(); ++k) {
    const PartStats& p = parts[k];
    out += fmt::format("{:>5} {:>10} {:>10} {:>12} {:>8} {:>8} {:>8}\n", k, p.inner, p.halo, p.edges, p.train, p.val,
                       p.test);
  }
  out += fmt::format(
      "edge cut {} | communication volume {} halo rows | imbalance nodes {:.3f}, edges {:.3f}\n"
      "partitioner {:.2f} s, total {:.2f} s, peak RSS {:.1f} MiB\n",
      edge_cut, comm_volume, node_imbalance, edge_imbalance, partition_seconds, total_seconds,
      static_cast<double>(peak_rss_bytes) / (1 << 20));
  return out;
}

}  // namespace halo
