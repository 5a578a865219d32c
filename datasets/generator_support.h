#pragma once
// What every synthetic generator shares: option checks with messages that name the field, and
// drawing a symmetric graph in parallel from counter-based random streams (so a graph depends
// on its key only, never on the thread count).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "core/counter_rng.h"
#include "datasets/graph.h"
#include "datasets/node_attributes.h"

namespace halo {

// Throws UsageError "<where>: <field> must be <allowed>, got <value>" unless `ok`.
void require_option(bool ok, const std::string& where, const std::string& field, double value,
                    const std::string& allowed);
// Checks the fields every generator has: node and class counts, degree, and the attributes.
void check_common_options(int64_t num_nodes, int64_t num_classes, double average_degree,
                          const NodeAttributeOptions& attributes, const std::string& where);

// One random edge (src, dst) drawn from `rng`.
using EdgeDraw = std::function<std::pair<int32_t, int32_t>(CounterRng& rng)>;

// A symmetric graph without self-loops or duplicate edges, with about `average_degree` in-edges
// per node, from n * average_degree / 2 edges drawn by `draw`. Edges are drawn in parallel in
// fixed blocks, each block on its own stream keyed by (key, round, block), so the graph depends on
// `key` only, never on the thread count. Duplicate draws collapse; while the graph is more than 2 %
// short of the degree, a few more rounds draw what is missing.
Graph draw_symmetric_graph(int64_t num_nodes, double average_degree, uint64_t key, const EdgeDraw& draw);

}  // namespace halo
