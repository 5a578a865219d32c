#include "gcn/kernels/edge_add.h"

#include "gcn/kernels/row_partition.h"

namespace halo::kernels {
namespace {

// Entries ahead whose values edge_row_sum requests (about as many as a core keeps in flight).
constexpr int64_t kAhead = 32;

}  // namespace

template <class T>
void edge_add(const CsrView& a, int64_t heads, const T* d, const T* s_src, T* s) {
  const int64_t H = heads;
  parallel_rows(a, H, [&](int64_t first, int64_t last) {
    for (int64_t v = first; v < last; ++v) {
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const T* src = s_src + int64_t{a.indices[k]} * H;
        T* out = s + edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) out[h] = d[v * H + h] + src[h];
      }
    }
  });
}

template <class T>
void edge_row_sum(const CsrView& a, int64_t heads, const T* s, T* out) {
  const int64_t H = heads;
  parallel_rows(a, H, [&](int64_t first, int64_t last) {
    const int64_t range_end = a.offsets[last];
    for (int64_t v = first; v < last; ++v) {
      T* sum = out + v * H;
      for (int64_t h = 0; h < H; ++h) sum[h] = 0;
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        // On a transpose the values are read through edge_ids, at random: request them early.
        if (a.edge_ids != nullptr && k + kAhead < range_end) __builtin_prefetch(s + a.edge_ids[k + kAhead] * H);
        const T* val = s + edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) sum[h] += val[h];
      }
    }
  });
}

template void edge_add<float>(const CsrView&, int64_t, const float*, const float*, float*);
template void edge_add<double>(const CsrView&, int64_t, const double*, const double*, double*);
template void edge_row_sum<float>(const CsrView&, int64_t, const float*, float*);
template void edge_row_sum<double>(const CsrView&, int64_t, const double*, double*);

}  // namespace halo::kernels
