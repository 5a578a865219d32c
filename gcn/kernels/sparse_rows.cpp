#include "gcn/kernels/sparse_rows.h"

#include <algorithm>
#include <vector>

#include "gcn/kernels/isa_kernels.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels::HALO_KERNEL_ISA {
namespace {

template <class T>
inline void axpy(T a, const T* x, T* y, int64_t n) {
  for (int64_t f = 0; f < n; ++f) y[f] += a * x[f];
}

}  // namespace

template <class T>
void sparse_project(const SparseRowsView<T>& x, int64_t width, const T* w, T* y) {
  parallel_rows(x.pattern(), width, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      T* out = y + i * width;
      std::fill(out, out + width, T(0));
      for (int64_t k = x.offsets[i]; k < x.offsets[i + 1]; ++k) axpy(x.values[k], w + x.columns[k] * width, out, width);
    }
  });
}

// The transpose's pattern is built here by a counting sort (O(non-zeros), sequential) rather than
// kept: the values change every epoch (dropout), and it costs little next to the products.
template <class T>
void sparse_project_weight_grad(const SparseRowsView<T>& x, int64_t width, const T* dy, T* dw) {
  const int64_t base = x.offsets[0], nnz = x.offsets[x.rows] - base;
  std::vector<int64_t> offsets(static_cast<size_t>(x.cols) + 1, 0);
  for (int64_t k = base; k < base + nnz; ++k) ++offsets[x.columns[k] + 1];
  for (int64_t j = 0; j < x.cols; ++j) offsets[j + 1] += offsets[j];
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1), row(nnz), entry(nnz);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t k = x.offsets[i]; k < x.offsets[i + 1]; ++k) {
      const int64_t at = next[x.columns[k]]++;
      row[at] = i;
      entry[at] = k;
    }
  }
  const CsrView transpose{x.cols, x.rows, offsets.data(), nullptr, nullptr};
  parallel_rows(transpose, width, [&](int64_t first, int64_t last) {
    for (int64_t j = first; j < last; ++j) {
      T* out = dw + j * width;
      std::fill(out, out + width, T(0));
      for (int64_t t = offsets[j]; t < offsets[j + 1]; ++t) axpy(x.values[entry[t]], dy + row[t] * width, out, width);
    }
  });
}

template void sparse_project<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project<double>(const SparseRowsView<double>&, int64_t, const double*, double*);
template void sparse_project_weight_grad<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project_weight_grad<double>(const SparseRowsView<double>&, int64_t, const double*, double*);

}  // namespace halo::kernels::HALO_KERNEL_ISA
