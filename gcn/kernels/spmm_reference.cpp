#include <vector>

#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/spmm.h"

namespace halo::kernels {

template <class T>
void spmm_reference(const SpmmArgs<T>& p) {
  const CsrView& a = p.a;
  const int64_t H = p.heads, F = p.width;
  std::vector<double> sum(F);
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t h = 0; h < H; ++h) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const int64_t u = a.indices[k];
        double s = p.w != nullptr ? p.w[edge_id(a, k) * H + h] : 1.0;
        if (p.col_scale != nullptr) s *= p.col_scale[u];
        for (int64_t j = 0; j < F; ++j) sum[j] += s * p.x[(u * H + h) * F + j];
      }
      for (int64_t j = 0; j < F; ++j) {
        double out = sum[j] * (p.row_scale != nullptr ? p.row_scale[v] : 1.0);
        if (p.bias != nullptr) out += p.bias[h * F + j];
        if (p.relu && out < 0) out = 0;
        p.y[(v * H + h) * F + j] = static_cast<T>(out);
      }
    }
  }
}

template void spmm_reference<float>(const SpmmArgs<float>&);
template void spmm_reference<double>(const SpmmArgs<double>&);

}  // namespace halo::kernels
