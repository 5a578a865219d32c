#pragma once
// Islandizer: I-GCN's island locator (Geng et al., MICRO 2021). Hubs are the nodes whose degree
// reaches a threshold; islands are small groups of non-hub nodes that touch each other and hubs
// only. Every island-island edge is ruled out by construction, so aggregation runs island by
// island on small dense blocks with hubs' partial sums as the only shared state.
//
// Rounds, with TH = th0 · decay^round (at least 1):
//   1. every unassigned node whose degree among unassigned nodes is >= TH becomes a hub;
//   2. a task starts at every unassigned non-hub neighbour of a hub (and at every unassigned
//      node left with no unassigned neighbour), in task order, each seed once;
//   3. a task runs a BFS over unassigned non-hub nodes, recording the hubs it meets; it is
//      dropped when it reaches a node another task visited this round or would grow past c_max
//      nodes (its nodes stay unassigned for the next round), otherwise it yields an island.
// When TH reaches 1 every node with an unassigned neighbour becomes a hub, so the last round
// leaves nothing over.
//
// Determinism: the result is the one of issuing the tasks one at a time in task order. The
// parallel run speculates: a chunk of tasks runs its BFSs concurrently on the state at the chunk
// start, then commits them in order, cutting a dropped BFS where an earlier task of the chunk
// dropped a node it reached (islandizer.cpp shows why nothing else can differ). So the output is
// independent of the thread count.
#include <torch/arg.h>

#include <cstdint>
#include <vector>

#include "datasets/graph.h"

namespace halo {

enum class TaskOrder {
  hub_degree,  // hubs by decreasing degree (earlier rounds first), each hub's neighbours by id
  node_id,     // seeds by id
};

struct IslandizerOptions {
  // First-round hub threshold as a degree; 0 means the graph's largest degree, so the first
  // round takes only the top hubs (defaults explained in accel_config.cpp).
  TORCH_ARG(double, th0) = 0;
  TORCH_ARG(double, decay) = 0.8;
  TORCH_ARG(int32_t, c_max) = 16;
  TORCH_ARG(TaskOrder, task_order) = TaskOrder::hub_degree;
};

struct Islands {
  // Island i: nodes[offsets[i] .. offsets[i+1]) in BFS order from its seed, and the hubs it
  // touches, attached_hubs[hub_offsets[i] .. hub_offsets[i+1]) in the order the BFS met them.
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> nodes;
  std::vector<int64_t> hub_offsets{0};
  std::vector<int32_t> attached_hubs;
  std::vector<int32_t> hubs;       // in the order they became hubs
  std::vector<int32_t> island_of;  // node -> island, or kHub
  int64_t hub_edges = 0;           // undirected hub-hub edges
  int32_t rounds = 0;
  int64_t tasks = 0, dropped_tasks = 0;
  int64_t rereads = 0;  // adjacency entries read by dropped tasks (read again in a later round)

  static constexpr int32_t kHub = -1;
  int64_t num_islands() const { return static_cast<int64_t>(offsets.size()) - 1; }
  bool operator==(const Islands& o) const;
};

// Islandizes the undirected version of `g` (self-loops ignored). Throws UsageError for
// c_max < 1, decay outside (0, 1) or th0 < 0.
Islands islandize(const Graph& g, const IslandizerOptions& options = {});

// Throws UsageError naming the first bad field of `options`.
void check_islandizer_options(const IslandizerOptions& options);

}  // namespace halo
