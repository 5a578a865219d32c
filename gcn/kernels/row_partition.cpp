#include "gcn/kernels/row_partition.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>

namespace halo::kernels {
namespace {

// Below this much work (about one multiply-add each) a range is not worth a task.
constexpr int64_t kMinWork = int64_t{1} << 15;
// Ranges per thread: enough for work stealing to even out what the cost model misses.
constexpr int64_t kRangesPerThread = 32;

// cost(v) = work of rows [0, v): (entries before v + v) * work_per_entry, nondecreasing in v.
int64_t cost_before(const CsrView& a, int64_t work_per_entry, int64_t v) {
  return (a.offsets[v] - a.offsets[0] + v) * std::max<int64_t>(work_per_entry, 1);
}

}  // namespace

int64_t range_start(const CsrView& a, int64_t work_per_entry, int64_t ranges, int64_t i) {
  // The first row whose cost reaches i / ranges of the total.
  const int64_t total = cost_before(a, work_per_entry, a.rows);
  const int64_t target = total / ranges * i + total % ranges * i / ranges;
  int64_t lo = 0, hi = a.rows;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (cost_before(a, work_per_entry, mid) < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void parallel_rows(const CsrView& a, int64_t work_per_entry, const std::function<void(int64_t, int64_t)>& body) {
  if (a.rows <= 0) return;
  const int64_t total = cost_before(a, work_per_entry, a.rows);
  const int64_t max_ranges = kRangesPerThread * tbb::this_task_arena::max_concurrency();
  const int64_t ranges = std::clamp<int64_t>(total / kMinWork, 1, std::min(max_ranges, a.rows));
  if (ranges == 1) {
    body(0, a.rows);
    return;
  }
  const auto start = [&](int64_t i) { return range_start(a, work_per_entry, ranges, i); };
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, ranges, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t i = r.begin(); i != r.end(); ++i) {
          const int64_t first = start(i), last = i + 1 == ranges ? a.rows : start(i + 1);
          if (first < last) body(first, last);
        }
      },
      tbb::simple_partitioner());
}

}  // namespace halo::kernels
