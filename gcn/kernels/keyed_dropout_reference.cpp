#include "core/counter_rng.h"
#include "gcn/kernels/keyed_dropout.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels {

template <class T>
void keyed_dropout_reference(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,
                             const T* relu_gate) {
  const uint32_t t = draw16_threshold(p);
  const double scale = draw16_scale(p);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < width; ++j) {
      const uint64_t hash = mix64(stream_key(key, static_cast<uint64_t>(ids[i])) ^ mix64(static_cast<uint64_t>(j / 4)));
      const uint32_t draw = static_cast<uint32_t>(hash >> (16 * (j % 4))) & 0xffff;
      const bool gated = relu_gate != nullptr && relu_gate[i * width + j] <= 0;
      y[i * width + j] = draw >= t && !gated ? static_cast<T>(x[i * width + j] * scale) : T(0);
    }
  }
}

template <class T>
void keyed_edge_dropout_reference(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids,
                                  uint64_t key, double p) {
  for (int64_t v = 0; v < a.rows; ++v) {
    for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
      const uint64_t edge = stream_key(stream_key(key, static_cast<uint64_t>(node_ids[v])),
                                       static_cast<uint64_t>(node_ids[a.indices[k]]));
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t e = edge_id(a, k) * heads + h;
        out[e] = CounterRng(edge, static_cast<uint64_t>(h)).uniform() >= p ? static_cast<T>(w[e] / (1.0 - p)) : T(0);
      }
    }
  }
}

template void keyed_dropout_reference<float>(const float*, float*, int64_t, int64_t, const int64_t*, uint64_t, double,
                                             const float*);
template void keyed_dropout_reference<double>(const double*, double*, int64_t, int64_t, const int64_t*, uint64_t,
                                              double, const double*);
template void keyed_edge_dropout_reference<float>(const CsrView&, int64_t, const float*, float*, const int64_t*,
                                                  uint64_t, double);
template void keyed_edge_dropout_reference<double>(const CsrView&, int64_t, const double*, double*, const int64_t*,
                                                   uint64_t, double);

}  // namespace halo::kernels
