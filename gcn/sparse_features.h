#pragma once
// Sparse input features. Bag-of-words columns are mostly zero (Cora's are 1.3% non-zero), so a
// Trainer whose first layer takes_sparse_input() holds them as sparse rows when at most
// kSparseInputShare of them are non-zero: layer 0's dropout and projection (graph_ops'
// keyed_dropout and project) then cost time and memory in the non-zeros, not rows x columns.
// The results are those of the dense features: dropout draws the same mask (it is keyed by node
// and column), and the products differ only in the order of their sums.
//
// Sparse rows are an at::kSparseCsr tensor with int64 row offsets and column indices and
// contiguous float32/float64 values, as sparse_rows() makes them.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "gcn/kernels/sparse_rows.h"

namespace halo {

// Above this share of non-zeros, the dense products are the faster ones. Measured on Coauthor CS
// aggregated at set-up (6.7% non-zero, AVX2, 2 threads), sparse rows ran an epoch 2.6x faster at
// width 16 and 1.7x at width 256, which puts the break-even near 11% at the widest.
constexpr double kSparseInputShare = 0.10;

bool is_sparse_rows(const at::Tensor& x);
// Share of non-zero elements of a dense tensor (0 for an empty one).
double nonzero_share(const at::Tensor& dense);
// A dense [rows, cols] matrix as sparse rows.
at::Tensor sparse_rows(const at::Tensor& dense);
// x as a first layer that `takes_sparse` (GraphLayerImpl::takes_sparse_input) reads it best:
// sparse rows if x is on the CPU (a CPU format: GPUs keep it dense) and at most
// kSparseInputShare of it is non-zero, else x itself.
at::Tensor layer_input(const at::Tensor& x, bool takes_sparse);
// x itself if dense; sparse rows as a dense matrix.
at::Tensor dense_rows(const at::Tensor& x);
// Sparse rows with the pattern of `like` and these values (one per entry).
at::Tensor with_values(const at::Tensor& like, const at::Tensor& values);
// The first n rows of sparse rows x, sharing its parts.
at::Tensor leading_sparse_rows(const at::Tensor& x, int64_t n);
// Row index[r] of sparse rows x times scale[r] (undefined: 1), for r in order: BNS's input rows.
at::Tensor select_sparse_rows(const at::Tensor& x, const at::Tensor& index, const at::Tensor& scale);

// The raw view the kernels take; x must be sparse rows of dtype T.
template <class T>
kernels::SparseRowsView<T> sparse_rows_view(const at::Tensor& x) {
  return {x.size(0), x.size(1), x.crow_indices().data_ptr<int64_t>(), x.col_indices().data_ptr<int64_t>(),
          x.values().data_ptr<T>()};
}

}  // namespace halo
