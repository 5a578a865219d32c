#pragma once
// SpMM: sparse (adjacency) times dense (node features), per head, with optional scales and a
// fused epilogue. Halo's hot loop: every GraphLayer's aggregation, forward and backward.
//
//   y[v, h, :] = act( r[v] * sum_{k in row v} w[edge_id(k), h] * c[u_k] * x[u_k, h, :] + b[h, :] )
//
// A missing r, c or w is 1, a missing b is 0; act is relu or the identity. Entries are summed
// in CSR order, so y does not depend on the thread count.
//
// The same kernel is the backward pass w.r.t. x: on the transpose (whose edge_ids share w),
// with r and c exchanged and no epilogue,
//   dx[u, h, :] = c[u] * sum_{e=(u->v)} w[e, h] * r[v] * dy[v, h, :].
#include <cstdint>

#include "sampling/csr.h"

namespace halo::kernels {

template <class T>
struct SpmmArgs {
  CsrView a;                     // rows x cols
  int64_t heads = 1;             // H
  int64_t width = 0;             // F
  const T* x = nullptr;          // [cols, H, F]
  const T* w = nullptr;          // [edges, H], indexed by edge_id; or null
  const T* row_scale = nullptr;  // [rows] or null
  const T* col_scale = nullptr;  // [cols] or null
  const T* bias = nullptr;       // [H, F] or null
  bool relu = false;
  T* y = nullptr;  // [rows, H, F], overwritten
};

// The fast kernel: oneTBB over rows, columns in register-held slices of 256 bytes, in the widest
// vectors the CPU has (isa.h).
template <class T>
void spmm(const SpmmArgs<T>& args);

// Plain loops, sequential, sums in double: what the tests compare spmm against.
template <class T>
void spmm_reference(const SpmmArgs<T>& args);

}  // namespace halo::kernels
