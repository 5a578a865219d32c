#include "gcn/kernels/edge_add.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels {

template <class T>
void edge_add_reference(const CsrView& a, int64_t heads, const T* d, const T* s_src, T* s) {
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
      for (int64_t h = 0; h < heads; ++h) {
        s[edge_id(a, k) * heads + h] = d[v * heads + h] + s_src[a.indices[k] * heads + h];
      }
    }
  }
}

template <class T>
void edge_row_sum_reference(const CsrView& a, int64_t heads, const T* s, T* out) {
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t h = 0; h < heads; ++h) {
      double sum = 0;
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) sum += s[edge_id(a, k) * heads + h];
      out[v * heads + h] = static_cast<T>(sum);
    }
  }
}

template void edge_add_reference<float>(const CsrView&, int64_t, const float*, const float*, float*);
template void edge_add_reference<double>(const CsrView&, int64_t, const double*, const double*, double*);
template void edge_row_sum_reference<float>(const CsrView&, int64_t, const float*, float*);
template void edge_row_sum_reference<double>(const CsrView&, int64_t, const double*, double*);

}  // namespace halo::kernels
