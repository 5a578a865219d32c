#include "gcn/kernels/sparse_rows.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <vector>

#include "gcn/kernels/isa_kernels.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels::HALO_KERNEL_ISA {
namespace {

// The weight gradient's stripes: enough multiply-adds each to be worth a task, and their copies of
// dw within a few MB.
constexpr int64_t kStripeWork = int64_t{1} << 18;
constexpr int64_t kStripeBytes = int64_t{32} << 20;
constexpr int64_t kMaxStripes = 16;

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

// Rows cut into stripes of about equal work (range_start); each stripe adds its rows' products
// into its own copy of dw (read and written at random, a few hundred KB: it stays in cache), and
// the copies are summed in stripe order. The stripes depend on the sizes alone, never on the
// thread count. (Gathering by column instead needs the transpose's pattern, a scatter over all
// entries that cost 8x the products on Coauthor CS.)
template <class T>
void sparse_project_weight_grad(const SparseRowsView<T>& x, int64_t width, const T* dy, T* dw) {
  const int64_t nnz = x.offsets[x.rows] - x.offsets[0], size = x.cols * width;
  const int64_t stripes = std::clamp<int64_t>(
      std::min(nnz * width / kStripeWork, kStripeBytes / std::max<int64_t>(size * sizeof(T), 1)), 1, kMaxStripes);
  std::vector<T> partial(static_cast<size_t>(stripes > 1 ? stripes * size : 0));
  const auto first_row = [&](int64_t s) { return range_start(x.pattern(), width, stripes, s); };
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, stripes, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t s = r.begin(); s != r.end(); ++s) {
          T* out = stripes > 1 ? partial.data() + s * size : dw;
          std::fill(out, out + size, T(0));
          const int64_t last = s + 1 == stripes ? x.rows : first_row(s + 1);
          for (int64_t i = first_row(s); i < last; ++i) {
            for (int64_t k = x.offsets[i]; k < x.offsets[i + 1]; ++k)
              axpy(x.values[k], dy + i * width, out + x.columns[k] * width, width);
          }
        }
      },
      tbb::simple_partitioner());
  if (stripes == 1) return;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, size, 4096), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t e = r.begin(); e != r.end(); ++e) {
      T sum = partial[e];
      for (int64_t s = 1; s < stripes; ++s) sum += partial[s * size + e];
      dw[e] = sum;
    }
  });
}

template void sparse_project<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project<double>(const SparseRowsView<double>&, int64_t, const double*, double*);
template void sparse_project_weight_grad<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project_weight_grad<double>(const SparseRowsView<double>&, int64_t, const double*, double*);

}  // namespace halo::kernels::HALO_KERNEL_ISA
