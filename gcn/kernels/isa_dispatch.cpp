// The public entry points of the kernels compiled once per instruction set (isa_kernels.h).
#include "gcn/kernels/isa.h"
#include "gcn/kernels/isa_kernels.h"

namespace halo::kernels {
namespace {

// The copy of a kernel for the level the kernels run.
template <class Fn>
Fn for_isa(Fn sse2, Fn avx2, Fn avx512) {
  const Fn copies[] = {sse2, avx2, avx512};
  return copies[static_cast<int>(kernel_isa())];
}
#define HALO_ISA_COPY(kernel) for_isa(&sse2::kernel, &avx2::kernel, &avx512::kernel)

}  // namespace

template <class T>
void spmm(const SpmmArgs<T>& args) {
  HALO_ISA_COPY(spmm<T>)(args);
}

template <class T>
void sddmm(const SddmmArgs<T>& args) {
  HALO_ISA_COPY(sddmm<T>)(args);
}

template <class T>
void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,
                   const T* relu_gate) {
  HALO_ISA_COPY(keyed_dropout<T>)(x, y, rows, width, ids, key, p, relu_gate);
}

template <class T>
void keyed_dropout_sparse(const SparseRowsView<T>& x, T* values_out, const int64_t* ids, uint64_t key, double p) {
  HALO_ISA_COPY(keyed_dropout_sparse<T>)(x, values_out, ids, key, p);
}

template <class T>
void keyed_edge_dropout(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids, uint64_t key,
                        double p) {
  HALO_ISA_COPY(keyed_edge_dropout<T>)(a, heads, w, out, node_ids, key, p);
}

template <class T>
void sparse_project(const SparseRowsView<T>& x, int64_t width, const T* w, T* y) {
  HALO_ISA_COPY(sparse_project<T>)(x, width, w, y);
}

template <class T>
void sparse_project_weight_grad(const SparseRowsView<T>& x, int64_t width, const T* dy, T* dw) {
  HALO_ISA_COPY(sparse_project_weight_grad<T>)(x, width, dy, dw);
}

template void spmm<float>(const SpmmArgs<float>&);
template void spmm<double>(const SpmmArgs<double>&);
template void sddmm<float>(const SddmmArgs<float>&);
template void sddmm<double>(const SddmmArgs<double>&);
template void keyed_dropout<float>(const float*, float*, int64_t, int64_t, const int64_t*, uint64_t, double,
                                   const float*);
template void keyed_dropout<double>(const double*, double*, int64_t, int64_t, const int64_t*, uint64_t, double,
                                    const double*);
template void keyed_dropout_sparse<float>(const SparseRowsView<float>&, float*, const int64_t*, uint64_t, double);
template void keyed_dropout_sparse<double>(const SparseRowsView<double>&, double*, const int64_t*, uint64_t, double);
template void keyed_edge_dropout<float>(const CsrView&, int64_t, const float*, float*, const int64_t*, uint64_t,
                                        double);
template void keyed_edge_dropout<double>(const CsrView&, int64_t, const double*, double*, const int64_t*, uint64_t,
                                         double);
template void sparse_project<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project<double>(const SparseRowsView<double>&, int64_t, const double*, double*);
template void sparse_project_weight_grad<float>(const SparseRowsView<float>&, int64_t, const float*, float*);
template void sparse_project_weight_grad<double>(const SparseRowsView<double>&, int64_t, const double*, double*);

}  // namespace halo::kernels
