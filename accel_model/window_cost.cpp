#include "accel_model/window_cost.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>

#include "core/error.h"

namespace halo {

void check_window(int k) {
  if (k != 2 && k != 4) throw UsageError(fmt::format("window k must be 2 or 4, got {}", k));
}

WindowCost window_cost(const Csr& block, int k) {
  check_window(k);
  const int64_t windows = (block.cols + k - 1) / k;
  auto width = [&](int64_t w) { return std::min<int64_t>(k, block.cols - w * k); };
  // Pass 1: what each window sum would save over the rows that gain from it.
  std::vector<int64_t> saving(windows, 0);
  auto for_each_window = [&](auto&& visit) {
    for (int64_t r = 0; r < block.rows(); ++r) {
      const int64_t end = block.offsets[r + 1];
      for (int64_t e = block.offsets[r]; e < end;) {
        const int64_t w = block.indices[e] / k;
        int64_t m = 0;
        for (; e < end && block.indices[e] / k == w; ++e) ++m;
        visit(w, m);
      }
    }
  };
  for_each_window([&](int64_t w, int64_t m) { saving[w] += std::max<int64_t>(0, m - (1 + width(w) - m)); });
  // Pass 2: a window sum is built where it saves more than its width(w) - 1 additions.
  WindowCost cost;
  for (int64_t w = 0; w < windows; ++w) {
    if (saving[w] > width(w) - 1) cost.presums += width(w) - 1;
  }
  for_each_window([&](int64_t w, int64_t m) {
    cost.plain += m;
    cost.windowed += saving[w] > width(w) - 1 ? std::min(m, 1 + width(w) - m) : m;
  });
  cost.windowed += cost.presums;
  return cost;
}

namespace {

// Graph with every edge reversed: row v lists the destinations of v's out-edges.
Graph reversed(const Graph& g) {
  EdgeList e = g.to_edges();
  std::swap(e.src, e.dst);
  return Graph::from_edges(e);
}

// The bitmap of island i (see window_cost.h); `pos` maps a node to its column, -1 elsewhere,
// and is left that way.
Csr island_block(const Graph& g, const Graph& out, const Islands& s, int64_t i, std::vector<int32_t>& pos) {
  const int64_t n0 = s.offsets[i], n1 = s.offsets[i + 1], h0 = s.hub_offsets[i], h1 = s.hub_offsets[i + 1];
  const auto size = static_cast<int32_t>(n1 - n0);
  std::vector<int32_t> members(s.nodes.begin() + n0, s.nodes.begin() + n1);
  members.insert(members.end(), s.attached_hubs.begin() + h0, s.attached_hubs.begin() + h1);
  for (size_t c = 0; c < members.size(); ++c) pos[members[c]] = static_cast<int32_t>(c);

  std::vector<std::vector<int32_t>> rows(members.size());
  for (int32_t r = 0; r < size; ++r) {
    const int32_t v = members[r];
    rows[r].push_back(r);  // the self-loop of A + I
    for (int32_t u : g.in_neighbors(v)) {
      if (u != v) rows[r].push_back(pos[u]);
    }
    // Entries (hub, island node): the edges v -> hub, found from v's out-edges.
    for (int32_t h : out.in_neighbors(v)) {
      if (s.island_of[h] == Islands::kHub) rows[pos[h]].push_back(r);
    }
  }
  Csr block;
  block.cols = static_cast<int64_t>(members.size());
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());
    block.indices.insert(block.indices.end(), row.begin(), row.end());
    block.offsets.push_back(static_cast<int64_t>(block.indices.size()));
  }
  for (int32_t v : members) pos[v] = -1;
  return block;
}

}  // namespace

AggregationCount count_aggregation(const Graph& g, const Islands& s, int k) {
  check_window(k);
  const bool symmetric = g.is_symmetric();
  const Graph owned = symmetric ? Graph() : reversed(g);
  const Graph& out = symmetric ? g : owned;

  AggregationCount count;
  count.plain = g.num_edges() - g.num_self_loops() + g.num_nodes();
  for (int32_t h : s.hubs) {
    ++count.hub_hub;
    for (int32_t u : g.in_neighbors(h)) count.hub_hub += u != h && s.island_of[u] == Islands::kHub;
  }
  tbb::enumerable_thread_specific<std::vector<int32_t>> positions(std::vector<int32_t>(g.num_nodes(), -1));
  const WindowCost islands = tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, s.num_islands()), WindowCost{},
      [&](const tbb::blocked_range<int64_t>& r, WindowCost sum) {
        std::vector<int32_t>& pos = positions.local();
        for (int64_t i = r.begin(); i < r.end(); ++i) {
          const WindowCost c = window_cost(island_block(g, out, s, i, pos), k);
          sum.plain += c.plain, sum.windowed += c.windowed, sum.presums += c.presums;
        }
        return sum;
      },
      [](WindowCost a, const WindowCost& b) {
        a.plain += b.plain, a.windowed += b.windowed, a.presums += b.presums;
        return a;
      });
  count.windowed = islands.windowed + count.hub_hub;
  count.presums = islands.presums;
  count.island_entries = islands.plain;
  return count;
}

}  // namespace halo
