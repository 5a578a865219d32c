#include "accel_model/islandizer.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/error.h"

namespace halo {
namespace {

constexpr int32_t kUnassigned = -2;
// Tasks speculated together; any value gives the same result (see islandizer.h).
constexpr size_t kChunk = 1024;

struct Task {
  int32_t seed = 0;
  bool skipped = false, dropped = false;
  std::vector<int32_t> nodes, hubs;
  std::vector<int64_t> reads_at;  // adjacency entries read when nodes[i] was found
  int64_t reads = 0;
};

// Per-thread BFS marks: node v is in the current BFS when mark[v] == token.
struct Scratch {
  std::vector<uint32_t> mark;
  uint32_t token = 0;
  uint32_t next(size_t n) {
    if (mark.size() != n || ++token == 0) {
      mark.assign(n, 0);
      token = 1;
    }
    return token;
  }
};

class Locator {
 public:
  Locator(const Graph& g, const IslandizerOptions& o, Islands& out)
      : g_(g),
        c_max_(o.c_max()),
        order_(o.task_order()),
        out_(out),
        dropped_round_(g.num_nodes(), -1),
        hub_rank_(g.num_nodes(), -1) {}

  void run_round(int32_t round, double th);

 private:
  std::vector<int32_t> promote_hubs(const std::vector<int32_t>& degree, double th) const;
  std::vector<int32_t> seeds(const std::vector<int32_t>& degree) const;
  void bfs(int32_t seed, int32_t round, Scratch& s, Task& t) const;
  void commit(const Task& t, int32_t round);

  const Graph& g_;
  int32_t c_max_;
  TaskOrder order_;
  Islands& out_;
  std::vector<int32_t> dropped_round_;  // round in which a dropped task visited the node
  std::vector<int32_t> hub_rank_;       // position of a hub in out_.hubs
  tbb::enumerable_thread_specific<Scratch> scratch_;
};

void Locator::bfs(int32_t seed, int32_t round, Scratch& s, Task& t) const {
  t.seed = seed;
  t.skipped = t.dropped = false;
  t.nodes.clear();
  t.hubs.clear();
  t.reads_at.clear();
  t.reads = 0;
  if (out_.island_of[seed] != kUnassigned || dropped_round_[seed] == round) {
    t.skipped = true;
    return;
  }
  const uint32_t token = s.next(g_.num_nodes());
  s.mark[seed] = token;
  t.nodes.push_back(seed);
  t.reads_at.push_back(0);
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const Graph::Row row = g_.in_neighbors(t.nodes[i]);
    t.reads += row.size();
    for (int32_t w : row) {
      if (s.mark[w] == token) continue;
      s.mark[w] = token;
      if (out_.island_of[w] == Islands::kHub) {
        t.hubs.push_back(w);
        continue;
      }
      // Islands are whole components of the unassigned non-hubs, so w is unassigned here.
      if (dropped_round_[w] == round || static_cast<int32_t>(t.nodes.size()) == c_max_) {
        t.dropped = true;
        return;
      }
      t.nodes.push_back(w);
      t.reads_at.push_back(t.reads);
    }
  }
}

// Commits a task whose BFS ran on the state at its chunk's start, as if it had run now. Within a
// round an island is a whole component of the unassigned non-hubs of at most c_max nodes, and a
// dropped task only visits a component larger than that (the first task in a component either
// completes it or is dropped; later ones stop at its nodes). So an island found speculatively is
// still one unless an earlier task took it (its seed is assigned then), and a dropped BFS differs
// from the one run now only by stopping at the first node an earlier task of the chunk dropped:
// the same discovery order, cut there.
void Locator::commit(const Task& t, int32_t round) {
  if (t.skipped || out_.island_of[t.seed] != kUnassigned || dropped_round_[t.seed] == round) return;
  if (t.dropped) {
    size_t kept = 1;
    while (kept < t.nodes.size() && dropped_round_[t.nodes[kept]] != round) ++kept;
    ++out_.dropped_tasks;
    out_.rereads += kept < t.nodes.size() ? t.reads_at[kept] : t.reads;
    for (size_t i = 0; i < kept; ++i) dropped_round_[t.nodes[i]] = round;
    return;
  }
  const auto id = static_cast<int32_t>(out_.num_islands());
  for (int32_t v : t.nodes) out_.island_of[v] = id;
  out_.nodes.insert(out_.nodes.end(), t.nodes.begin(), t.nodes.end());
  out_.offsets.push_back(static_cast<int64_t>(out_.nodes.size()));
  out_.attached_hubs.insert(out_.attached_hubs.end(), t.hubs.begin(), t.hubs.end());
  out_.hub_offsets.push_back(static_cast<int64_t>(out_.attached_hubs.size()));
}

std::vector<int32_t> Locator::promote_hubs(const std::vector<int32_t>& degree, double th) const {
  std::vector<int32_t> hubs;
  for (int32_t v = 0; v < g_.num_nodes(); ++v) {
    if (out_.island_of[v] == kUnassigned && degree[v] >= th) hubs.push_back(v);
  }
  std::stable_sort(hubs.begin(), hubs.end(), [&](int32_t a, int32_t b) { return degree[a] > degree[b]; });
  return hubs;
}

// The hub_degree order lists each hub's open neighbours, hubs in promotion order and neighbours
// by id, each node where it first appears: the open nodes with a hub neighbour sorted by (rank of
// their earliest hub, id). node_id sorts them by id alone.
std::vector<int32_t> Locator::seeds(const std::vector<int32_t>& degree) const {
  const int32_t n = g_.num_nodes();
  constexpr int32_t kNone = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> key(n, kNone);
  tbb::parallel_for(tbb::blocked_range<int32_t>(0, n), [&](const tbb::blocked_range<int32_t>& r) {
    for (int32_t v = r.begin(); v < r.end(); ++v) {
      if (out_.island_of[v] != kUnassigned) continue;
      for (int32_t w : g_.in_neighbors(v)) {
        if (out_.island_of[w] != Islands::kHub) continue;
        key[v] = std::min(key[v], order_ == TaskOrder::hub_degree ? hub_rank_[w] : 0);
      }
    }
  });
  std::vector<int32_t> seeds, isolated;
  for (int32_t v = 0; v < n; ++v) {
    if (key[v] != kNone) {
      seeds.push_back(v);
    } else if (out_.island_of[v] == kUnassigned && degree[v] == 0) {
      isolated.push_back(v);  // no unassigned and no hub neighbour: a task of its own, after the others
    }
  }
  tbb::parallel_sort(seeds.begin(), seeds.end(),
                     [&](int32_t a, int32_t b) { return key[a] != key[b] ? key[a] < key[b] : a < b; });
  seeds.insert(seeds.end(), isolated.begin(), isolated.end());
  return seeds;
}

void Locator::run_round(int32_t round, double th) {
  const int32_t n = g_.num_nodes();
  // Degree among unassigned nodes: the connectivity of what is still to be split.
  std::vector<int32_t> degree(n, 0);
  tbb::parallel_for(tbb::blocked_range<int32_t>(0, n), [&](const tbb::blocked_range<int32_t>& r) {
    for (int32_t v = r.begin(); v < r.end(); ++v) {
      if (out_.island_of[v] != kUnassigned) continue;
      const Graph::Row row = g_.in_neighbors(v);
      degree[v] = static_cast<int32_t>(
          std::count_if(row.begin(), row.end(), [&](int32_t w) { return out_.island_of[w] == kUnassigned; }));
    }
  });
  for (int32_t h : promote_hubs(degree, th)) {
    out_.island_of[h] = Islands::kHub;
    hub_rank_[h] = static_cast<int32_t>(out_.hubs.size());
    out_.hubs.push_back(h);
  }
  const std::vector<int32_t> seeds = this->seeds(degree);
  out_.tasks += static_cast<int64_t>(seeds.size());

  std::vector<Task> tasks(kChunk);
  for (size_t first = 0; first < seeds.size(); first += kChunk) {
    const size_t count = std::min(kChunk, seeds.size() - first);
    tbb::parallel_for(tbb::blocked_range<size_t>(0, count, 8), [&](const tbb::blocked_range<size_t>& r) {
      Scratch& s = scratch_.local();
      for (size_t i = r.begin(); i < r.end(); ++i) bfs(seeds[first + i], round, s, tasks[i]);
    });
    for (size_t i = 0; i < count; ++i) commit(tasks[i], round);
  }
}

int64_t count_hub_edges(const Graph& g, const Islands& s) {
  return tbb::parallel_reduce(
      tbb::blocked_range<size_t>(0, s.hubs.size()), int64_t{0},
      [&](const tbb::blocked_range<size_t>& r, int64_t sum) {
        for (size_t i = r.begin(); i < r.end(); ++i) {
          const int32_t h = s.hubs[i];
          for (int32_t w : g.in_neighbors(h)) sum += w > h && s.island_of[w] == Islands::kHub;
        }
        return sum;
      },
      std::plus<>());
}

}  // namespace

bool Islands::operator==(const Islands& o) const {
  return offsets == o.offsets && nodes == o.nodes && hub_offsets == o.hub_offsets && attached_hubs == o.attached_hubs &&
         hubs == o.hubs && island_of == o.island_of && hub_edges == o.hub_edges && rounds == o.rounds &&
         tasks == o.tasks && dropped_tasks == o.dropped_tasks && rereads == o.rereads;
}

void check_islandizer_options(const IslandizerOptions& o) {
  if (o.c_max() < 1) throw UsageError(fmt::format("islandizer: c_max must be >= 1, got {}", o.c_max()));
  if (!(o.decay() > 0 && o.decay() < 1)) {
    throw UsageError(fmt::format("islandizer: decay must be in (0, 1), got {}", o.decay()));
  }
  if (!(o.th0() >= 0)) {
    throw UsageError(fmt::format("islandizer: th0 must be >= 0 (0: largest degree), got {}", o.th0()));
  }
}

Islands islandize(const Graph& g, const IslandizerOptions& options) {
  check_islandizer_options(options);
  Graph owned;
  const Graph* u = &g;
  if (g.num_self_loops() > 0 || !g.is_symmetric()) {
    owned = g.symmetrized().with_self_loops(SelfLoops::remove);
    u = &owned;
  }
  const int32_t n = u->num_nodes();
  Islands out;
  out.island_of.assign(n, kUnassigned);
  int64_t max_degree = 0;
  for (int32_t v = 0; v < n; ++v) max_degree = std::max(max_degree, u->in_degree(v));
  double th = options.th0() > 0 ? options.th0() : static_cast<double>(std::max<int64_t>(1, max_degree));

  Locator locator(*u, options, out);
  auto left = [&] { return std::count(out.island_of.begin(), out.island_of.end(), kUnassigned); };
  for (bool last = false; left() > 0;) {
    // A round at TH = 1 makes a hub of every node with an unassigned neighbour.
    if (last) throw std::logic_error("islandize: nodes left after a round at threshold 1");
    last = th <= 1;
    locator.run_round(out.rounds++, th);
    th = std::max(1.0, th * options.decay());
  }
  out.hub_edges = count_hub_edges(*u, out);
  return out;
}

}  // namespace halo
