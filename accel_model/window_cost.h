#pragma once
// I-GCN's redundancy removal inside an island. The island's adjacency bitmap is scanned in
// windows of k consecutive columns; the sum of a window's k feature vectors is computed once
// (k_w - 1 additions, k_w the window's width) and shared by every row. A row with m ones in a
// window either adds its m vectors or takes the window sum and subtracts the k_w - m it lacks:
//   cost(row, window) = min(m, 1 + k_w - m) vector operations,
// plus k_w - 1 for each window sum built. A window sum is built only where it pays: when the
// rows that gain from it save more than its k_w - 1 additions together (otherwise every row
// adds its m vectors). Without windows a row costs one operation per one.
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
  int64_t plain = 0;     // ones in the bitmap
  int64_t windowed = 0;  // row costs plus window sums
  int64_t presums = 0;   // the window-sum part of `windowed`
};

// `block`: the bitmap as a pattern, rows sorted; block.cols columns.
WindowCost window_cost(const Csr& block, int k);

// Aggregation of a GCN layer over A + I (rows = destinations, as Graph stores it), counted in
// vector operations. Island blocks have rows and columns [island nodes in BFS order | attached
// hubs], holding every entry except hub-hub ones, which run plain in a hub phase. Every entry
// of A + I lies in exactly one island block or the hub phase (no island-island edges).
struct AggregationCount {
  int64_t plain = 0;           // entries of A + I
  int64_t windowed = 0;        // island blocks with the window rule, hub-hub entries plain
  int64_t presums = 0;         // window sums inside `windowed`
  int64_t hub_hub = 0;         // hub-hub entries (with hubs' self-loops)
  int64_t island_entries = 0;  // entries in island blocks: island_entries + hub_hub == plain
  // Share of the plain operations the window rule removes.
  double pruned() const { return plain > 0 ? 1.0 - static_cast<double>(windowed) / static_cast<double>(plain) : 0.0; }
};

AggregationCount count_aggregation(const Graph& g, const Islands& islands, int k);

}  // namespace halo
