#include <cmath>
#include <limits>

#include "gcn/kernels/edge_softmax.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels {

template <class T>
void edge_softmax_reference(const CsrView& a, int64_t heads, const T* s, T* p) {
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t h = 0; h < heads; ++h) {
      double max = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k)
        max = std::max<double>(max, s[edge_id(a, k) * heads + h]);
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) sum += std::exp(s[edge_id(a, k) * heads + h] - max);
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const int64_t e = edge_id(a, k) * heads + h;
        p[e] = std::isinf(max) && max < 0 ? T(0) : static_cast<T>(std::exp(s[e] - max) / sum);
      }
    }
  }
}

template <class T>
void edge_softmax_backward_reference(const CsrView& a, int64_t heads, const T* p, const T* dp, T* ds) {
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t h = 0; h < heads; ++h) {
      double dot = 0;
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const int64_t e = edge_id(a, k) * heads + h;
        dot += double(p[e]) * dp[e];
      }
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const int64_t e = edge_id(a, k) * heads + h;
        ds[e] = static_cast<T>(p[e] * (dp[e] - dot));
      }
    }
  }
}

template void edge_softmax_reference<float>(const CsrView&, int64_t, const float*, float*);
template void edge_softmax_reference<double>(const CsrView&, int64_t, const double*, double*);
template void edge_softmax_backward_reference<float>(const CsrView&, int64_t, const float*, const float*, float*);
template void edge_softmax_backward_reference<double>(const CsrView&, int64_t, const double*, const double*, double*);

}  // namespace halo::kernels
