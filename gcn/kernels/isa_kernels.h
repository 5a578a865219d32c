#pragma once
// The kernels compiled once per instruction set (isa.h): the copy for a level declares, in
// namespace halo::kernels::<level>, the entry points of the public headers below under the same
// names; isa_dispatch.cpp defines the public ones, each a call to the copy for kernel_isa().
#include "gcn/kernels/keyed_dropout.h"
#include "gcn/kernels/sddmm.h"
#include "gcn/kernels/sparse_rows.h"
#include "gcn/kernels/spmm.h"

#define HALO_ISA_KERNELS                                                                                              \
  template <class T>                                                                                                  \
  void spmm(const SpmmArgs<T>& args);                                                                                 \
  template <class T>                                                                                                  \
  void sddmm(const SddmmArgs<T>& args);                                                                               \
  template <class T>                                                                                                  \
  void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,       \
                     const T* relu_gate);                                                                             \
  template <class T>                                                                                                  \
  void keyed_dropout_sparse(const SparseRowsView<T>& x, T* values_out, const int64_t* ids, uint64_t key, double p);   \
  template <class T>                                                                                                  \
  void keyed_edge_dropout(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids, uint64_t key, \
                          double p);                                                                                  \
  template <class T>                                                                                                  \
  void sparse_project(const SparseRowsView<T>& x, int64_t width, const T* w, T* y);                                   \
  template <class T>                                                                                                  \
  void sparse_project_weight_grad(const SparseRowsView<T>& x, int64_t width, const T* dy, T* dw);

namespace halo::kernels {
namespace sse2 {
HALO_ISA_KERNELS
}
namespace avx2 {
HALO_ISA_KERNELS
}
namespace avx512 {
HALO_ISA_KERNELS
}
}  // namespace halo::kernels

#undef HALO_ISA_KERNELS
