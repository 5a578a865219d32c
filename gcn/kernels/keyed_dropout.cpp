#include "gcn/kernels/keyed_dropout.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/counter_rng.h"
#include "gcn/kernels/isa_kernels.h"
#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/simd.h"

namespace halo::kernels::HALO_KERNEL_ISA {
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

// mix64 (core/counter_rng.h) on every lane.
template <class U>
inline U mix64_lanes(U x) {
  x += kMixIncrement;
  x = (x ^ (x >> 30)) * kMixFactor1;
  x = (x ^ (x >> 27)) * kMixFactor2;
  return x ^ (x >> 31);
}

// One row of keyed_dropout, a pack of 64-bit hashes (four columns each) at a time and without
// branches: every element is drawn, zeros too (a branch on the draw, mispredicted half the
// time, and one to skip zeros cost more than the draws). Read as 16-bit lanes, the hashes are
// the draws in column order (little-endian), compared unsigned and widened to T's select masks.
// Gated: gate (the row of relu_gate) drops its entries <= 0 too.
template <bool Gated, class T>
void drop_row(const T* in, T* out, const T* gate, int64_t width, const uint64_t* group, uint64_t row_key,
              uint32_t threshold, T scale) {
  using V = pack_t<T>;
  using U = pack_t<uint64_t>;
  using D = pack_t<uint16_t>;
  using Mask = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;  // a lane of V's select mask
  constexpr int L = Pack<T>::lanes, C = Pack<uint16_t>::lanes;        // C columns per pack of hashes
  const D t = broadcast<D>(static_cast<uint16_t>(threshold));
  int64_t j = 0;
  for (; j + C <= width; j += C) {
    D draws;
    const U hashes = mix64_lanes(load<U>(group + j / 4) ^ row_key);
    std::memcpy(&draws, &hashes, sizeof draws);
    int16_t keep[C];
    store(keep, draws >= t);
    // Widened a register of T at a time: one conversion of all C lanes at once would be wider
    // than a register, which the compiler lowers to scalar code (3x slower dropout on AVX2).
#pragma GCC unroll 4
    for (int h = 0; h < C; h += L) {
      auto kept = __builtin_convertvector(load<pack_t<int16_t, L * sizeof(int16_t)>>(keep + h), pack_t<Mask>);
      if constexpr (Gated) kept &= ~(load<V>(gate + j + h) <= V{});
      store(out + j + h, kept ? load<V>(in + j + h) * scale : V{});
    }
  }
  for (; j < width; ++j) {
    const bool keep = draw16(row_key, group[j / 4], j) >= threshold && !(Gated && gate[j] <= 0);
    out[j] = keep ? in[j] * scale : T(0);
  }
}

}  // namespace

template <class T>
void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,
                   const T* relu_gate) {
  const std::vector<uint64_t> group = counter_mix((width + 3) / 4);
  const uint32_t threshold = draw16_threshold(p);
  if (threshold > 0xffff) {  // p = 1: no 16-bit draw reaches it
    std::fill(y, y + rows * width, T(0));
    return;
  }
  const auto scale = static_cast<T>(draw16_scale(p));
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(width, 1));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, grain), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i != r.end(); ++i) {
      const uint64_t row_key = stream_key(key, static_cast<uint64_t>(ids[i]));
      if (relu_gate) {
        drop_row<true>(x + i * width, y + i * width, relu_gate + i * width, width, group.data(), row_key, threshold,
                       scale);
      } else {
        drop_row<false, T>(x + i * width, y + i * width, nullptr, width, group.data(), row_key, threshold, scale);
      }
    }
  });
}

template <class T>
void keyed_dropout_sparse(const SparseRowsView<T>& x, T* values_out, const int64_t* ids, uint64_t key, double p) {
  const std::vector<uint64_t> group = counter_mix((x.cols + 3) / 4);
  const uint32_t threshold = draw16_threshold(p);
  const auto scale = static_cast<T>(draw16_scale(p));
  parallel_rows(x.pattern(), 2, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const uint64_t row_key = stream_key(key, static_cast<uint64_t>(ids[i]));
      for (int64_t k = x.offsets[i]; k < x.offsets[i + 1]; ++k) {
        const int64_t c = x.columns[k];
        // Both sides computed, so a select rather than a branch: the draw is a coin flip that no
        // predictor learns.
        const T kept = x.values[k] * scale;
        values_out[k] = draw16(row_key, group[c / 4], c) >= threshold ? kept : T(0);
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

}  // namespace halo::kernels::HALO_KERNEL_ISA
