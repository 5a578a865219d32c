#pragma once
// I-GCN's redundancy removal inside an island. The island's adjacency bitmap is scanned in
// windows of k consecutive columns; the sum of a window's k feature vectors is computed once
// (k_w - 1 additions, k_w the window's width) and shared by every row. A row with m ones in a
// window either adds its m vectors or takes the window sum and subtracts the k_w - m it lacks:
//   cost(row, window) = min(m, 1 + k_w - m) vector operations.
// Without windows a row costs one operation per one. Where the window sums' additions count is
// a convention, and both are kept:
// - combination (the paper's, section 3.3.1, "pre-aggregation during combination"): the sums
//   are formed as the combination produces the rows, so they are combination work; every
//   window some row gains from has its sum, and aggregation is the rows' costs alone.
// - aggregation: the sums are aggregation work, so a sum is built only where the rows gaining
//   from it save more than its k_w - 1 additions together (elsewhere rows add their m vectors).
//
// The paper's example (Fig. of the island consumer), rebuilt: a 4-node island with every edge
// and self-loop, a 4 x 4 bitmap of ones. Plain: 16 operations. With k = 2 each row has two
// full windows at min(2, 1) = 1 each (8) and the two window sums cost 1 each (2): 10.
#include <cstdint>

#include "accel_model/islandizer.h"
#include "sampling/csr.h"

namespace halo {

// Throws UsageError unless k is 2 or 4 (the window widths the paper's hardware has).
void check_window(int k);

struct WindowCost {
  int64_t plain = 0;  // ones in the bitmap
  // Sums in combination: the rows' costs, and the additions of the sums they use.
  int64_t rows = 0, combination_sums = 0;
  // Sums in aggregation: row costs plus the sums that pay, and the sums' part of it.
  int64_t windowed = 0, presums = 0;
  WindowCost& operator+=(const WindowCost& o);
};

// `block`: the bitmap as a pattern, rows sorted; block.cols columns.
WindowCost window_cost(const Csr& block, int k);

// Aggregation of a GCN layer over A + I (rows = destinations, as Graph stores it), counted in
// vector operations. Island blocks have rows and columns [island nodes in BFS order | attached
// hubs], holding every entry except hub-hub ones, which run plain in a hub phase. Every entry
// of A + I lies in exactly one island block or the hub phase (no island-island edges).
struct AggregationCount {
  int64_t plain = 0;  // entries of A + I
  // Island blocks with the window rule, hub-hub entries plain; sums in combination: `rows`
  // aggregation operations and `combination_sums` additions in the combination.
  int64_t rows = 0, combination_sums = 0;
  // Sums in aggregation: `windowed` operations, `presums` of them building window sums.
  int64_t windowed = 0, presums = 0;
  int64_t hub_hub = 0;         // hub-hub entries (with hubs' self-loops)
  int64_t island_entries = 0;  // entries in island blocks: island_entries + hub_hub == plain
  // Share of the plain operations the window rule removes, the sums in combination (the
  // paper's convention, the headline) or in aggregation.
  double pruned() const { return share_saved(rows); }
  double pruned_with_sums() const { return share_saved(windowed); }

 private:
  double share_saved(int64_t ops) const {
    return plain > 0 ? 1.0 - static_cast<double>(ops) / static_cast<double>(plain) : 0.0;
  }
};

AggregationCount count_aggregation(const Graph& g, const Islands& islands, int k);

// Upper bound on the share of A + I's entries the window rule prunes over every island split
// and column order (all of A + I as one island bounds them all), with the window sums counted
// in combination (`sums_in_aggregation` false) or in aggregation. Costs the sum over nodes of
// the squared degree; returns NaN where that passes `max_work`.
double window_rule_bound(const Graph& g, int k, bool sums_in_aggregation, int64_t max_work = int64_t{1} << 31);

}  // namespace halo
