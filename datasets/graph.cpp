#include "datasets/graph.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_scan.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "core/error.h"

namespace halo {
namespace {

// Exclusive prefix sum of `counts` (size n) into offsets (size n + 1).
std::vector<int64_t> offsets_from_counts(const std::vector<int64_t>& counts) {
  const size_t n = counts.size();
  std::vector<int64_t> offsets(n + 1, 0);
  tbb::parallel_scan(
      tbb::blocked_range<size_t>(0, n), int64_t{0},
      [&](const tbb::blocked_range<size_t>& r, int64_t sum, bool final) {
        for (size_t i = r.begin(); i != r.end(); ++i) {
          sum += counts[i];
          if (final) offsets[i + 1] = sum;
        }
        return sum;
      },
      [](int64_t a, int64_t b) { return a + b; });
  return offsets;
}

// Sorts each row of (offsets, indices), drops duplicates, applies the self-loop mode, and
// compacts the result into a new CSR.
Graph normalise_rows(std::vector<int64_t> offsets, std::vector<int32_t> indices, SelfLoops mode) {
  const size_t n = offsets.size() - 1;
  std::vector<int64_t> kept(n);
  std::vector<uint8_t> needs_loop(n, 0);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t v = r.begin(); v != r.end(); ++v) {
      int32_t* first = indices.data() + offsets[v];
      int32_t* last = indices.data() + offsets[v + 1];
      std::sort(first, last);
      last = std::unique(first, last);
      if (mode == SelfLoops::remove) {
        last = std::remove(first, last, static_cast<int32_t>(v));
      } else if (mode == SelfLoops::add) {
        needs_loop[v] = !std::binary_search(first, last, static_cast<int32_t>(v));
      }
      kept[v] = (last - first) + needs_loop[v];
    }
  });
  std::vector<int64_t> out_offsets = offsets_from_counts(kept);
  std::vector<int32_t> out(static_cast<size_t>(out_offsets[n]));
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t v = r.begin(); v != r.end(); ++v) {
      const int32_t* first = indices.data() + offsets[v];
      int32_t* dst = out.data() + out_offsets[v];
      const int64_t len = kept[v] - needs_loop[v];
      if (!needs_loop[v]) {
        std::copy(first, first + len, dst);
        continue;
      }
      const int32_t* split = std::lower_bound(first, first + len, static_cast<int32_t>(v));
      dst = std::copy(first, split, dst);
      *dst++ = static_cast<int32_t>(v);
      std::copy(split, first + len, dst);
    }
  });
  return Graph(std::move(out_offsets), std::move(out));
}

}  // namespace

void check_node_count(int64_t num_nodes, const std::string& where) {
  if (num_nodes < 0 || num_nodes > kMaxNodes) {
    throw Error(
        fmt::format("{}: {} nodes do not fit Halo's 32-bit node ids (at most {})", where, num_nodes, kMaxNodes));
  }
}

Graph::Graph(std::vector<int64_t> offsets, std::vector<int32_t> indices)
    : offsets_(std::move(offsets)), indices_(std::move(indices)) {
  check();
}

Graph Graph::from_edges(const EdgeList& edges, const GraphOptions& options) {
  check_node_count(edges.num_nodes, "edge list");
  if (edges.src.size() != edges.dst.size()) {
    throw Error(fmt::format("edge list has {} sources but {} destinations", edges.src.size(), edges.dst.size()));
  }
  const int64_t n = edges.num_nodes;
  const size_t m = edges.src.size();
  const int32_t bad = tbb::parallel_reduce(
      tbb::blocked_range<size_t>(0, m), int32_t{-1},
      [&](const tbb::blocked_range<size_t>& r, int32_t found) {
        for (size_t i = r.begin(); i != r.end() && found < 0; ++i) {
          if (edges.src[i] < 0 || edges.src[i] >= n || edges.dst[i] < 0 || edges.dst[i] >= n) {
            found = static_cast<int32_t>(std::min<size_t>(i, INT32_MAX));
          }
        }
        return found;
      },
      [](int32_t a, int32_t b) { return a < 0 ? b : (b < 0 ? a : std::min(a, b)); });
  if (bad >= 0) {
    throw Error(
        fmt::format("edge {} ({} -> {}) has a node id outside [0, {})", bad, edges.src[bad], edges.dst[bad], n));
  }

  // Counting sort by destination; rows are sorted afterwards, so the scatter order (which
  // depends on thread timing) never shows in the result.
  const bool sym = options.symmetrize();
  std::unique_ptr<std::atomic<int64_t>[]> cursor(new std::atomic<int64_t>[n + 1]);
  tbb::parallel_for(int64_t{0}, n + 1, [&](int64_t v) { cursor[v].store(0, std::memory_order_relaxed); });
  tbb::parallel_for(tbb::blocked_range<size_t>(0, m), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i != r.end(); ++i) {
      cursor[edges.dst[i]].fetch_add(1, std::memory_order_relaxed);
      if (sym) cursor[edges.src[i]].fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<int64_t> counts(n);
  for (int64_t v = 0; v < n; ++v) counts[v] = cursor[v].load(std::memory_order_relaxed);
  std::vector<int64_t> offsets = offsets_from_counts(counts);
  for (int64_t v = 0; v < n; ++v) cursor[v].store(offsets[v], std::memory_order_relaxed);
  std::vector<int32_t> indices(static_cast<size_t>(offsets[n]));
  tbb::parallel_for(tbb::blocked_range<size_t>(0, m), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i != r.end(); ++i) {
      indices[cursor[edges.dst[i]].fetch_add(1, std::memory_order_relaxed)] = edges.src[i];
      if (sym) indices[cursor[edges.src[i]].fetch_add(1, std::memory_order_relaxed)] = edges.dst[i];
    }
  });
  return normalise_rows(std::move(offsets), std::move(indices), options.self_loops());
}

std::vector<int32_t> Graph::in_degrees() const {
  std::vector<int32_t> deg(num_nodes());
  tbb::parallel_for(int32_t{0}, num_nodes(), [&](int32_t v) { deg[v] = static_cast<int32_t>(in_degree(v)); });
  return deg;
}

std::vector<int32_t> Graph::out_degrees() const {
  std::vector<std::atomic<int32_t>> count(num_nodes());
  tbb::parallel_for(tbb::blocked_range<size_t>(0, indices_.size()), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i != r.end(); ++i) count[indices_[i]].fetch_add(1, std::memory_order_relaxed);
  });
  return std::vector<int32_t>(count.begin(), count.end());
}

int64_t Graph::num_self_loops() const {
  return tbb::parallel_reduce(
      tbb::blocked_range<int32_t>(0, num_nodes()), int64_t{0},
      [&](const tbb::blocked_range<int32_t>& r, int64_t sum) {
        for (int32_t v = r.begin(); v != r.end(); ++v) {
          const Row row = in_neighbors(v);
          sum += std::binary_search(row.begin(), row.end(), v) ? 1 : 0;
        }
        return sum;
      },
      std::plus<int64_t>());
}

bool Graph::is_symmetric() const {
  return tbb::parallel_reduce(
      tbb::blocked_range<int32_t>(0, num_nodes()), true,
      [&](const tbb::blocked_range<int32_t>& r, bool ok) {
        for (int32_t v = r.begin(); v != r.end() && ok; ++v) {
          for (int32_t u : in_neighbors(v)) {
            const Row back = in_neighbors(u);
            if (!std::binary_search(back.begin(), back.end(), v)) {
              ok = false;
              break;
            }
          }
        }
        return ok;
      },
      [](bool a, bool b) { return a && b; });
}

Graph Graph::symmetrized() const { return from_edges(to_edges(), GraphOptions().symmetrize(true)); }

Graph Graph::with_self_loops(SelfLoops mode) const { return normalise_rows(offsets_, indices_, mode); }

EdgeList Graph::to_edges() const {
  EdgeList e;
  e.num_nodes = num_nodes();
  e.src = indices_;
  e.dst.resize(indices_.size());
  tbb::parallel_for(int32_t{0}, num_nodes(),
                    [&](int32_t v) { std::fill(e.dst.begin() + offsets_[v], e.dst.begin() + offsets_[v + 1], v); });
  return e;
}

void Graph::check() const {
  if (offsets_.empty() || offsets_.front() != 0) throw Error("graph CSR: offsets must start at 0");
  check_node_count(static_cast<int64_t>(offsets_.size()) - 1, "graph CSR");
  if (offsets_.back() != static_cast<int64_t>(indices_.size())) {
    throw Error(
        fmt::format("graph CSR: last offset {} differs from the edge count {}", offsets_.back(), indices_.size()));
  }
  const int32_t n = num_nodes();
  for (int32_t v = 0; v < n; ++v) {
    if (offsets_[v + 1] < offsets_[v]) {
      throw Error(fmt::format("graph CSR: offsets decrease at row {}", v));
    }
  }
  for (int32_t v = 0; v < n; ++v) {
    const Row row = in_neighbors(v);
    for (const int32_t* p = row.begin(); p != row.end(); ++p) {
      if (*p < 0 || *p >= n) {
        throw Error(fmt::format("graph CSR: row {} has source {} outside [0, {})", v, *p, n));
      }
      if (p != row.begin() && *p <= p[-1]) {
        throw Error(fmt::format("graph CSR: row {} is not sorted or has a duplicate source {}", v, *p));
      }
    }
  }
}

}  // namespace halo
