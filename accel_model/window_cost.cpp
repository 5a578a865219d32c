#include "accel_model/window_cost.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "core/error.h"

namespace halo {

void check_window(int k) {
  if (k != 2 && k != 4) throw UsageError(fmt::format("window k must be 2 or 4, got {}", k));
}

WindowCost& WindowCost::operator+=(const WindowCost& o) {
  plain += o.plain, rows += o.rows, combination_sums += o.combination_sums;
  windowed += o.windowed, presums += o.presums;
  return *this;
}

WindowCost window_cost(const Csr& block, int k) {
  check_window(k);
  const int64_t windows = (block.cols + k - 1) / k;
  auto width = [&](int64_t w) { return std::min<int64_t>(k, block.cols - w * k); };
  auto cost = [&](int64_t w, int64_t m) { return std::min(m, 1 + width(w) - m); };
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
  WindowCost c;
  for_each_window([&](int64_t w, int64_t m) {
    saving[w] += m - cost(w, m);
    c.plain += m;
    c.rows += cost(w, m);
  });
  // Pass 2, sums in aggregation: a window sum is built where it saves more than its width(w) - 1
  // additions. In combination, every sum some row gains from is built.
  for (int64_t w = 0; w < windows; ++w) {
    if (saving[w] > width(w) - 1) c.presums += width(w) - 1;
    if (saving[w] > 0) c.combination_sums += width(w) - 1;
  }
  for_each_window([&](int64_t w, int64_t m) { c.windowed += saving[w] > width(w) - 1 ? cost(w, m) : m; });
  c.windowed += c.presums;
  return c;
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
        for (int64_t i = r.begin(); i < r.end(); ++i) sum += window_cost(island_block(g, out, s, i, pos), k);
        return sum;
      },
      [](WindowCost a, const WindowCost& b) { return a += b; });
  count.rows = islands.rows + count.hub_hub;
  count.combination_sums = islands.combination_sums;
  count.windowed = islands.windowed + count.hub_hub;
  count.presums = islands.presums;
  count.island_entries = islands.plain;
  return count;
}

// Let c(u, w) be the rows holding both columns u and w: the closed neighbourhoods of u and w
// meeting. k = 2: a window {u, w} saves c(u, w) (less 1 for its sum in aggregation), at most the
// sum over its two nodes of max_w c(u, w) / 2 (less 1/2). k = 4: a row with m of a full window's
// ones saves m - min(m, 5 - m) <= C(m, 2) / 2, so the window saves at most half its pairs' c
// (less 3 for its sum), at most the sum over its nodes of (their three largest c) / 4 (less
// 3/4); the one narrower last window (up to 3 columns) saves at most 2 max c (less 2). Each node
// lies in one window and no window saves below 0.
double window_rule_bound(const Graph& g, int k, bool sums_in_aggregation, int64_t max_work) {
  check_window(k);
  const int32_t n = g.num_nodes();
  int64_t work = 0;
  for (int32_t v = 0; v < n; ++v) work += static_cast<int64_t>(g.in_degree(v) + 1) * (g.in_degree(v) + 1);
  if (work > max_work) return std::numeric_limits<double>::quiet_NaN();
  const double sum_cost = sums_in_aggregation ? 1 : 0;
  auto closed = [&](int32_t v, auto&& visit) {
    visit(v);
    for (int32_t u : g.in_neighbors(v)) {
      if (u != v) visit(u);
    }
  };
  struct Partial {
    double saved = 0;
    int32_t most = 1;
  };
  tbb::enumerable_thread_specific<std::vector<int32_t>> counts(std::vector<int32_t>(n, 0));
  const Partial total = tbb::parallel_reduce(
      tbb::blocked_range<int32_t>(0, n), Partial{},
      [&](const tbb::blocked_range<int32_t>& r, Partial p) {
        std::vector<int32_t>& count = counts.local();
        std::vector<int32_t> touched, c;
        for (int32_t u = r.begin(); u < r.end(); ++u) {
          closed(u, [&](int32_t row) {
            closed(row, [&](int32_t w) {
              if (w != u && count[w]++ == 0) touched.push_back(w);
            });
          });
          c.clear();
          for (int32_t w : touched) c.push_back(count[w]), count[w] = 0;
          touched.clear();
          if (c.empty()) continue;
          const size_t top = std::min<size_t>(k == 2 ? 1 : 3, c.size());
          std::partial_sort(c.begin(), c.begin() + static_cast<int64_t>(top), c.end(), std::greater<>());
          p.most = std::max(p.most, c[0]);
          double best = 0;
          for (size_t i = 0; i < top; ++i) best += c[i];
          p.saved += std::max(0.0, best / k - sum_cost * (k - 1) / k);
        }
        return p;
      },
      [](Partial a, const Partial& b) {
        return Partial{a.saved + b.saved, std::max(a.most, b.most)};
      });
  const double narrow = k == 4 ? 2.0 * (total.most - sum_cost) : 0.0;
  return (total.saved + narrow) / static_cast<double>(g.num_edges() - g.num_self_loops() + n);
}

}  // namespace halo
