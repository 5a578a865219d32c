#include "gcn/kernels/edge_softmax.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gcn/kernels/row_partition.h"

namespace halo::kernels {

template <class T>
void edge_softmax(const CsrView& a, int64_t heads, const T* s, T* p) {
  const int64_t H = heads;
  parallel_rows(a, 4 * H, [&](int64_t first, int64_t last) {
    std::vector<T> max(H), sum(H);
    for (int64_t v = first; v < last; ++v) {
      const int64_t begin = a.offsets[v], end = a.offsets[v + 1];
      std::fill(max.begin(), max.end(), -std::numeric_limits<T>::infinity());
      std::fill(sum.begin(), sum.end(), T(0));
      for (int64_t k = begin; k < end; ++k) {
        const T* in = s + edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) max[h] = std::max(max[h], in[h]);
      }
      for (int64_t k = begin; k < end; ++k) {
        const int64_t e = edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) {
          const T x = max[h] == -std::numeric_limits<T>::infinity() ? T(0) : std::exp(s[e + h] - max[h]);
          p[e + h] = x;
          sum[h] += x;
        }
      }
      for (int64_t h = 0; h < H; ++h) sum[h] = sum[h] > 0 ? T(1) / sum[h] : T(0);
      for (int64_t k = begin; k < end; ++k) {
        T* out = p + edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) out[h] *= sum[h];
      }
    }
  });
}

template <class T>
void edge_softmax_backward(const CsrView& a, int64_t heads, const T* p, const T* dp, T* ds) {
  const int64_t H = heads;
  parallel_rows(a, 3 * H, [&](int64_t first, int64_t last) {
    std::vector<T> dot(H);
    for (int64_t v = first; v < last; ++v) {
      const int64_t begin = a.offsets[v], end = a.offsets[v + 1];
      std::fill(dot.begin(), dot.end(), T(0));
      for (int64_t k = begin; k < end; ++k) {
        const int64_t e = edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) dot[h] += p[e + h] * dp[e + h];
      }
      for (int64_t k = begin; k < end; ++k) {
        const int64_t e = edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) ds[e + h] = p[e + h] * (dp[e + h] - dot[h]);
      }
    }
  });
}

template void edge_softmax<float>(const CsrView&, int64_t, const float*, float*);
template void edge_softmax<double>(const CsrView&, int64_t, const double*, double*);
template void edge_softmax_backward<float>(const CsrView&, int64_t, const float*, const float*, float*);
template void edge_softmax_backward<double>(const CsrView&, int64_t, const double*, const double*, double*);

}  // namespace halo::kernels
