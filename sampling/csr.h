#pragma once
// Csr: an owning rows x cols sparse pattern (no values), and CsrView, the raw form kernels take.
// Rows are destinations, columns sources: row v lists the u of every edge u -> v, sorted.
#include <cstdint>
#include <vector>

namespace halo {

struct CsrView {
  int64_t rows = 0, cols = 0;
  const int64_t* offsets = nullptr;   // rows + 1 entries
  const int32_t* indices = nullptr;   // column of each entry
  const int64_t* edge_ids = nullptr;  // optional: the entry of the matrix this one was derived from
  int64_t nnz() const { return offsets[rows]; }
};

struct Csr {
  int64_t cols = 0;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> indices;
  std::vector<int64_t> edge_ids;  // empty, or one per entry (see CsrView)

  int64_t rows() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
  CsrView view() const {
    return {rows(), cols, offsets.data(), indices.data(), edge_ids.empty() ? nullptr : edge_ids.data()};
  }

  // The cols x rows transpose; its edge_ids name the entries of this matrix, so edge-valued
  // data (attention weights) is shared rather than permuted. Rows stay sorted.
  Csr transposed() const;
  // Adds entry (i, i) to every row i < min(rows, cols) that lacks it; edge_ids are dropped.
  Csr with_diagonal() const;
  // Whether the pattern equals its transpose's (square, with (c, r) for every (r, c)).
  bool is_symmetric() const;
};

}  // namespace halo
