#pragma once
// Sparse rows times a dense weight: layer 0's projection of input features that are mostly zero
// (bag-of-words columns), in O(non-zeros) rather than O(rows x columns).
//
//   y[i, :]  = sum_{k in row i} v[k] * w[c[k], :]          (forward)
//   dw[j, :] = sum_{k : c[k] = j} v[k] * dy[row(k), :]      (weight gradient)
//
// Both sum in an order fixed by the sizes alone (entries of a row; rows ascending within stripes of
// rows, then the stripes in order), so neither depends on the thread count.
#include <cstdint>

#include "sampling/csr.h"

namespace halo::kernels {

template <class T>
struct SparseRowsView {
  int64_t rows = 0, cols = 0;
  const int64_t* offsets = nullptr;  // rows + 1 entries
  const int64_t* columns = nullptr;  // column of each entry
  const T* values = nullptr;
  // The row pattern alone, for parallel_rows (which reads rows and offsets only).
  CsrView pattern() const { return {rows, cols, offsets, nullptr, nullptr}; }
};

// y: [rows, width], overwritten; w: [cols, width].
template <class T>
void sparse_project(const SparseRowsView<T>& x, int64_t width, const T* w, T* y);

// dw: [cols, width], overwritten; dy: [rows, width].
template <class T>
void sparse_project_weight_grad(const SparseRowsView<T>& x, int64_t width, const T* dy, T* dw);

}  // namespace halo::kernels
