#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/sddmm.h"

namespace halo::kernels {

template <class T>
void sddmm_reference(const SddmmArgs<T>& p) {
  const CsrView& a = p.a;
  const int64_t H = p.heads, F = p.width;
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
      const int64_t u = a.indices[k];
      for (int64_t h = 0; h < H; ++h) {
        double sum = 0;
        for (int64_t j = 0; j < F; ++j) sum += double(p.dy[(v * H + h) * F + j]) * p.x[(u * H + h) * F + j];
        if (p.row_scale != nullptr) sum *= p.row_scale[v];
        if (p.col_scale != nullptr) sum *= p.col_scale[u];
        p.dw[edge_id(a, k) * H + h] = static_cast<T>(sum);
      }
    }
  }
}

template void sddmm_reference<float>(const SddmmArgs<float>&);
template void sddmm_reference<double>(const SddmmArgs<double>&);

}  // namespace halo::kernels
