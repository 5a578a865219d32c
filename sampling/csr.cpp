#include "sampling/csr.h"

#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>

namespace halo {

Csr Csr::transposed() const {
  Csr t;
  t.cols = rows();
  t.offsets.assign(cols + 1, 0);
  for (int32_t c : indices) ++t.offsets[c + 1];
  for (int64_t c = 0; c < cols; ++c) t.offsets[c + 1] += t.offsets[c];
  t.indices.resize(indices.size());
  t.edge_ids.resize(indices.size());
  // Walking rows in order keeps each transposed row sorted by its (row) index.
  std::vector<int64_t> next(t.offsets.begin(), t.offsets.end() - 1);
  for (int64_t r = 0; r < rows(); ++r) {
    for (int64_t e = offsets[r]; e < offsets[r + 1]; ++e) {
      const int64_t slot = next[indices[e]]++;
      t.indices[slot] = static_cast<int32_t>(r);
      t.edge_ids[slot] = edge_ids.empty() ? e : edge_ids[e];
    }
  }
  return t;
}

bool Csr::is_symmetric() const {
  if (rows() != cols) return false;
  std::vector<int64_t> in_count(cols, 0);
  for (int32_t c : indices) ++in_count[c];
  for (int64_t r = 0; r < rows(); ++r) {
    if (in_count[r] != offsets[r + 1] - offsets[r]) return false;
  }
  // Equal row and column counts, so every (r, c) having its (c, r) makes the patterns equal.
  return tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, rows()), true,
      [&](const tbb::blocked_range<int64_t>& range, bool ok) {
        for (int64_t r = range.begin(); ok && r < range.end(); ++r) {
          for (int64_t e = offsets[r]; ok && e < offsets[r + 1]; ++e) {
            const int32_t c = indices[e];
            ok = std::binary_search(indices.begin() + offsets[c], indices.begin() + offsets[c + 1],
                                    static_cast<int32_t>(r));
          }
        }
        return ok;
      },
      std::logical_and<>());
}

Csr Csr::with_diagonal() const {
  const int64_t n = rows(), diag = std::min(rows(), cols);
  std::vector<uint8_t> missing(n, 0);
  tbb::parallel_for(int64_t{0}, diag, [&](int64_t r) {
    missing[r] =
        !std::binary_search(indices.begin() + offsets[r], indices.begin() + offsets[r + 1], static_cast<int32_t>(r));
  });
  Csr out;
  out.cols = cols;
  out.offsets.assign(n + 1, 0);
  for (int64_t r = 0; r < n; ++r) out.offsets[r + 1] = out.offsets[r] + (offsets[r + 1] - offsets[r]) + missing[r];
  out.indices.resize(out.offsets[n]);
  tbb::parallel_for(int64_t{0}, n, [&](int64_t r) {
    const int32_t* first = indices.data() + offsets[r];
    const int32_t* last = indices.data() + offsets[r + 1];
    int32_t* dst = out.indices.data() + out.offsets[r];
    if (!missing[r]) {
      std::copy(first, last, dst);
      return;
    }
    const int32_t* split = std::lower_bound(first, last, static_cast<int32_t>(r));
    dst = std::copy(first, split, dst);
    *dst++ = static_cast<int32_t>(r);
    std::copy(split, last, dst);
  });
  return out;
}

}  // namespace halo
