#include "gcn/kernels/spmm.h"

#include <algorithm>
#include <array>
#include <utility>

#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/simd.h"

namespace halo::kernels {
namespace {

// Packs summed per pass over a row's entries: 16 x 16 bytes = 256 bytes of each gathered row,
// in the 16 xmm registers (three accumulators spill to L1). Each pass fetches a slice of every
// random row, so fewer, wider passes are faster: 8 packs measured 20-30 % slower at F = 128/256.
constexpr int kPacks = 16;
// While entry k is summed, the slice of entry k + kAhead (and its factor) is requested. The rows
// are random, so without this a core waits on one row after another; with it about kAhead rows
// are in flight. Measured on a 200k-node power-law graph: no prefetch 1.5-2x slower, 8 or 32
// ahead 5-15 % slower than 16.
constexpr int64_t kAhead = 16;

// The per-entry factor of a sum: w[edge_id(k), h] and/or c[u], chosen at compile time so the
// common cases (plain sum, c only) carry no loads or branches for what they lack.
enum Factors { kNone = 0, kWeight = 1, kColScale = 2, kBoth = 3 };

// One (row, head) of the sum: its entries, head h's column 0 of x, and the factors' sources.
template <class T>
struct Gather {
  const int32_t* cols;      // a.indices
  const int64_t* edge_ids;  // a.edge_ids, or null (entry k is edge k)
  int64_t begin, end;       // the row's entries
  const T* x;               // x + h * F
  int64_t stride;           // H * F: from one x row to the next
  const T* w;               // w + h, or null
  int64_t heads;            // H: from one edge's weight to the next
  const T* c;               // col_scale, or null
};

template <class T, int Factors>
inline T factor(const Gather<T>& g, int64_t k, int32_t u) {
  T s = T(1);
  if constexpr ((Factors & kWeight) != 0) s = g.w[(g.edge_ids != nullptr ? g.edge_ids[k] : k) * g.heads];
  if constexpr ((Factors & kColScale) != 0) s *= g.c[u];
  return s;
}

// Requests the cache lines of [p, p + bytes) (bytes a compile-time constant: unrolled).
template <int64_t Bytes>
inline void prefetch(const void* p) {
  const char* c = static_cast<const char*>(p);
#pragma GCC unroll 8
  for (int64_t b = 0; b < Bytes; b += 64) __builtin_prefetch(c + b);
  __builtin_prefetch(c + Bytes - 1);  // the slice may straddle one more cache line
}

// out[j] = sum_k factor(k) * x[cols[k], col + j] for j < N * lanes, in entry order. N is a
// template argument so the N accumulators live in registers.
template <class T, int Factors, int N>
void sum_packs(const Gather<T>& g, int64_t col, T* out) {
  using V = pack_t<T>;
  constexpr int L = Pack<T>::lanes;
  V acc[N] = {};
  const T* x = g.x + col;
  for (int64_t k = g.begin; k < g.end; ++k) {
    if (k + kAhead < g.end) {
      // The factors' loads are random too (c[u]; w through a transpose's edge_ids).
      const int32_t ahead = g.cols[k + kAhead];
      prefetch<N * sizeof(V)>(x + ahead * g.stride);
      if constexpr ((Factors & kColScale) != 0) __builtin_prefetch(g.c + ahead);
      if constexpr ((Factors & kWeight) != 0) {
        if (g.edge_ids != nullptr) __builtin_prefetch(g.w + g.edge_ids[k + kAhead] * g.heads);
      }
    }
    const int32_t u = g.cols[k];
    const T* row = x + u * g.stride;
    const V s = broadcast(factor<T, Factors>(g, k, u));
#pragma GCC unroll 16
    for (int j = 0; j < N; ++j) acc[j] += s * load_pack(row + j * L);
  }
#pragma GCC unroll 16
  for (int j = 0; j < N; ++j) store_pack(out + j * L, acc[j]);
}

// The same for the last n < lanes columns of a width that is not a multiple of the pack: a
// second pass over the row's entries, whose x rows the first pass has just brought in.
template <class T, int Factors>
void sum_scalars(const Gather<T>& g, int64_t col, int n, T* out) {
  T acc[Pack<T>::lanes] = {};
  const T* x = g.x + col;
  for (int64_t k = g.begin; k < g.end; ++k) {
    const int32_t u = g.cols[k];
    const T s = factor<T, Factors>(g, k, u);
    for (int j = 0; j < n; ++j) acc[j] += s * x[u * g.stride + j];
  }
  for (int j = 0; j < n; ++j) out[j] = acc[j];
}

// The kernels for one choice of factors: sum_packs for N = 1 .. kPacks (entry 0 unused) and
// sum_scalars.
template <class T>
struct SliceKernels {
  using Packs = void (*)(const Gather<T>&, int64_t, T*);
  using Scalars = void (*)(const Gather<T>&, int64_t, int, T*);
  std::array<Packs, kPacks + 1> packs;
  Scalars scalars;
};
template <class T, int Factors, size_t... N>
constexpr SliceKernels<T> slice_kernels(std::index_sequence<N...>) {
  return {{nullptr, &sum_packs<T, Factors, static_cast<int>(N) + 1>...}, &sum_scalars<T, Factors>};
}
template <class T>
constexpr auto all_slice_kernels() {
  constexpr auto n = std::make_index_sequence<kPacks>();
  return std::array{slice_kernels<T, kNone>(n), slice_kernels<T, kWeight>(n), slice_kernels<T, kColScale>(n),
                    slice_kernels<T, kBoth>(n)};
}

}  // namespace

template <class T>
void spmm(const SpmmArgs<T>& p) {
  const CsrView& a = p.a;
  const int64_t H = p.heads, F = p.width;
  if (a.rows == 0 || H * F == 0) return;
  constexpr int L = Pack<T>::lanes;
  constexpr int64_t kSlice = kPacks * L;
  static constexpr auto all = all_slice_kernels<T>();
  const SliceKernels<T>& kernel = all[(p.w != nullptr ? kWeight : 0) | (p.col_scale != nullptr ? kColScale : 0)];
  parallel_rows(a, H * F, [&](int64_t first, int64_t last) {
    T sum[kSlice];
    for (int64_t v = first; v < last; ++v) {
      const T r = p.row_scale != nullptr ? p.row_scale[v] : T(1);
      for (int64_t h = 0; h < H; ++h) {
        const Gather<T> g{a.indices,
                          a.edge_ids,
                          a.offsets[v],
                          a.offsets[v + 1],
                          p.x + h * F,
                          H * F,
                          p.w != nullptr ? p.w + h : nullptr,
                          H,
                          p.col_scale};
        T* y = p.y + (v * H + h) * F;
        const T* b = p.bias != nullptr ? p.bias + h * F : nullptr;
        for (int64_t col = 0; col < F; col += kSlice) {
          const int64_t n = std::min(kSlice, F - col);
          const int64_t packs = n / L;
          if (packs > 0) kernel.packs[packs](g, col, sum);
          if (n % L != 0) kernel.scalars(g, col + packs * L, static_cast<int>(n % L), sum + packs * L);
          // Epilogue: y = act(r * sum + b), still in cache.
          for (int64_t j = 0; j < n; ++j) {
            T out = r * sum[j];
            if (b != nullptr) out += b[col + j];
            y[col + j] = p.relu && out < 0 ? T(0) : out;
          }
        }
      }
    }
  });
}

template void spmm<float>(const SpmmArgs<float>&);
template void spmm<double>(const SpmmArgs<double>&);

}  // namespace halo::kernels
