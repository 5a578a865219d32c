#include "gcn/kernels/keyed_dropout.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <vector>

#include "core/counter_rng.h"
#include "gcn/kernels/row_partition.h"

namespace halo::kernels {
namespace {

// CounterRng(key, j).next() = mix64(key ^ mix64(j)): the inner mix64 depends on j alone, so it
// is computed once per column and each element costs one mix64.
std::vector<uint64_t> counter_mix(int64_t n) {
  std::vector<uint64_t> m(n);
  for (int64_t j = 0; j < n; ++j) m[j] = mix64(static_cast<uint64_t>(j));
  return m;
}

template <class T>
T keep_scale(double p) {
  return p < 1 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
}

}  // namespace

template <class T>
void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p) {
  const std::vector<uint64_t> col = counter_mix(width);
  const uint64_t threshold = keep_threshold(p);
  const T scale = keep_scale<T>(p);
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(width, 1));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, grain), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i != r.end(); ++i) {
      const uint64_t row_key = stream_key(key, static_cast<uint64_t>(ids[i]));
      const T* in = x + i * width;
      T* out = y + i * width;
      for (int64_t j = 0; j < width; ++j) {
        // A zero stays zero whatever the draw: sparse inputs and ReLU outputs skip the hash.
        if (in[j] == T(0)) {
          out[j] = T(0);
          continue;
        }
        const bool keep = (mix64(row_key ^ col[j]) >> 11) >= threshold;
        out[j] = keep ? in[j] * scale : T(0);
      }
    }
  });
}

template <class T>
void keyed_dropout_sparse(const SparseRowsView<T>& x, T* values_out, const int64_t* ids, uint64_t key, double p) {
  const uint64_t threshold = keep_threshold(p);
  const T scale = keep_scale<T>(p);
  parallel_rows(x.pattern(), 2, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const uint64_t row_key = stream_key(key, static_cast<uint64_t>(ids[i]));
      for (int64_t k = x.offsets[i]; k < x.offsets[i + 1]; ++k) {
        const bool keep = (mix64(row_key ^ mix64(static_cast<uint64_t>(x.columns[k]))) >> 11) >= threshold;
        values_out[k] = keep ? x.values[k] * scale : T(0);
      }
    }
  });
}

template <class T>
void keyed_edge_dropout(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids, uint64_t key,
                        double p) {
  const std::vector<uint64_t> head = counter_mix(heads);
  const uint64_t threshold = keep_threshold(p);
  const T scale = keep_scale<T>(p);
  parallel_rows(a, 2 + heads, [&](int64_t first, int64_t last) {
    for (int64_t v = first; v < last; ++v) {
      const uint64_t row_key = stream_key(key, static_cast<uint64_t>(node_ids[v]));
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        const uint64_t edge_key = stream_key(row_key, static_cast<uint64_t>(node_ids[a.indices[k]]));
        const int64_t e = edge_id(a, k) * heads;
        for (int64_t h = 0; h < heads; ++h) {
          const bool keep = (mix64(edge_key ^ head[h]) >> 11) >= threshold;
          out[e + h] = keep ? w[e + h] * scale : T(0);
        }
      }
    }
  });
}

template void keyed_dropout<float>(const float*, float*, int64_t, int64_t, const int64_t*, uint64_t, double);
template void keyed_dropout<double>(const double*, double*, int64_t, int64_t, const int64_t*, uint64_t, double);
template void keyed_dropout_sparse<float>(const SparseRowsView<float>&, float*, const int64_t*, uint64_t, double);
template void keyed_dropout_sparse<double>(const SparseRowsView<double>&, double*, const int64_t*, uint64_t, double);
template void keyed_edge_dropout<float>(const CsrView&, int64_t, const float*, float*, const int64_t*, uint64_t,
                                        double);
template void keyed_edge_dropout<double>(const CsrView&, int64_t, const double*, double*, const int64_t*, uint64_t,
                                         double);

}  // namespace halo::kernels
