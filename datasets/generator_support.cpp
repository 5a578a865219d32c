#include "datasets/generator_support.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.h"
#include "core/resources.h"

namespace halo {
namespace {

// Edges are drawn in blocks of this many; each block has its own random stream.
constexpr int64_t kEdgeBlock = 4096;
// Rounds that draw again what duplicates took away, and the shortfall they accept.
constexpr int kExtraRounds = 4;
constexpr double kDegreeTolerance = 0.02;

// Appends `count` edges to `edges`; edge i uses the stream of block i / kEdgeBlock, in edge order.
void draw_edges(EdgeList& edges, int64_t count, uint64_t key, const EdgeDraw& draw) {
  const auto first = static_cast<int64_t>(edges.src.size());
  edges.src.resize(first + count);
  edges.dst.resize(first + count);
  const int64_t blocks = (count + kEdgeBlock - 1) / kEdgeBlock;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, blocks), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t b = r.begin(); b != r.end(); ++b) {
      CounterRng rng(stream_key(key, b));
      for (int64_t i = first + b * kEdgeBlock; i < first + std::min(count, (b + 1) * kEdgeBlock); ++i) {
        std::tie(edges.src[i], edges.dst[i]) = draw(rng);
      }
    }
  });
}

std::string format_value(double value) {
  const bool integral = std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15;
  return integral ? fmt::format("{}", static_cast<int64_t>(value)) : fmt::format("{}", value);
}

}  // namespace

void require_option(bool ok, const std::string& where, const std::string& field, double value,
                    const std::string& allowed) {
  if (!ok) {
    throw UsageError(fmt::format("{}: {} must be {}, got {}", where, field, allowed, format_value(value)));
  }
}

void check_common_options(int64_t num_nodes, int64_t num_classes, double average_degree,
                          const NodeAttributeOptions& attributes, const std::string& where) {
  require_option(num_nodes >= 1 && num_nodes <= kMaxNodes, where, "num_nodes", static_cast<double>(num_nodes),
                 fmt::format("in [1, {}]", kMaxNodes));
  require_option(num_classes >= 1 && num_classes <= kMaxClasses, where, "num_classes", static_cast<double>(num_classes),
                 fmt::format("in [1, {}]", kMaxClasses));
  require_option(average_degree >= 0 && average_degree <= static_cast<double>(num_nodes - 1), where, "average_degree",
                 average_degree, fmt::format("in [0, num_nodes - 1 = {}]", num_nodes - 1));
  check_options(attributes, where);
  // Centroids snr noise deviations apart must stay far inside float32.
  require_option(attributes.feature_snr() <= 1e6, where, "feature_snr", attributes.feature_snr(), "at most 1000000");
  // The features (float) and the drawn edges (two int32 per edge, twice over while the graph is
  // built), before any of them is allocated.
  const double n = static_cast<double>(num_nodes);
  const std::string shortfall =
      memory_shortfall(n * (4.0 * static_cast<double>(attributes.num_features()) + 16.0 * average_degree),
                       fmt::format("{}: {} nodes of {} features, degree {}", where, num_nodes,
                                   attributes.num_features(), format_value(average_degree)));
  if (!shortfall.empty()) throw UsageError(shortfall);
}

// Round 0 draws M = n d / 2 edges. Round r > 0 draws the missing in-edges over 2 y, where
// y = (in-edges so far) / (2 * draws so far) is the fraction of draws that survived deduplication;
// new draws collide more often than that, hence several rounds.
Graph draw_symmetric_graph(int64_t num_nodes, double average_degree, uint64_t key, const EdgeDraw& draw) {
  const GraphOptions simple = GraphOptions().symmetrize(true).self_loops(SelfLoops::remove);
  const double target = static_cast<double>(num_nodes) * average_degree;
  EdgeList edges;
  edges.num_nodes = num_nodes;
  draw_edges(edges, std::llround(target / 2), stream_key(key, 0), draw);
  Graph graph = Graph::from_edges(edges, simple);
  for (int round = 1; round <= kExtraRounds && graph.num_edges() > 0 &&
                      static_cast<double>(graph.num_edges()) < (1 - kDegreeTolerance) * target;
       ++round) {
    const double yield = static_cast<double>(graph.num_edges()) / (2.0 * static_cast<double>(edges.src.size()));
    const double missing = target - static_cast<double>(graph.num_edges());
    graph = Graph();  // free it before the rebuild
    draw_edges(edges, std::llround(std::min(missing / (2 * yield), target)), stream_key(key, round), draw);
    graph = Graph::from_edges(edges, simple);
  }
  return graph;
}

}  // namespace halo
