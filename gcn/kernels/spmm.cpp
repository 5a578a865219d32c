#include "gcn/kernels/spmm.h"

#include <algorithm>
#include <array>
#include <utility>

#include "gcn/kernels/isa_kernels.h"
#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/simd.h"

namespace halo::kernels::HALO_KERNEL_ISA {
namespace {

// Packs summed per pass over a row's entries: 256 bytes of each gathered row at every pack width.
// Each pass fetches a slice of every random row, so fewer, wider passes are faster: with SSE2,
// 16 x 16 bytes (in the 16 xmm registers, three accumulators spilled to L1); 8 packs measured
// 30-45 % slower at F = 128/256. With AVX2, 8 x 32 bytes (no spills) and 16 x 32 bytes measured
// the same within the noise of a shared machine (+-10 %). AVX-512's 4 x 64 bytes: not measured.
constexpr int kPacks = 256 / kPackBytes;
// A width narrower than a pack is summed in up to kNarrowPacks 16-byte packs, or below 16 bytes
// one column at a time.
constexpr int kNarrowPacks = kPackBytes > 16 ? kPackBytes / 16 : 0;
// While entry k is summed, the slice of the entry `ahead` further on (and its factor) is
// requested; near the end of a pass, "further on" runs into the next pass (next column slice,
// head or row), so no pass starts cold. The rows are random, so without this a core waits on
// one row after another. Measured on a 200k-node power-law graph: for 256-byte slices 24 ahead
// is best (16: 10 % slower, 48: 30 % slower, too many requests in flight); for 64-byte slices
// anything from 32 to 96 (16: 10 % slower). Without the run-on into the next pass 1.6x slower,
// without prefetching 2-3x slower.
constexpr int64_t ahead(int64_t slice_bytes) { return slice_bytes >= 128 ? 24 : 48; }

// The per-entry factor of a sum: w[edge_id(k), h] and/or c[u], chosen at compile time so the
// common cases (plain sum, c only) carry no loads or branches for what they lack.
enum Factors { kNone = 0, kWeight = 1, kColScale = 2, kBoth = 3 };

// One pass: a row's entries, the x columns it sums (head h, columns col..), and the factors'
// sources; and the pass after it, whose first rows this one requests as it nears its end.
template <class T>
struct Pass {
  const int32_t* cols;                   // a.indices
  const int64_t* edge_ids;               // a.edge_ids, or null (entry k is edge k)
  int64_t begin, end;                    // the row's entries
  const T* x;                            // x + h * F + col: the slice of x row 0
  int64_t stride;                        // H * F: from one x row to the next
  const T* w;                            // w + h, or null
  int64_t heads;                         // H: from one edge's weight to the next
  const T* c;                            // col_scale, or null
  int64_t next_begin = 0, next_end = 0;  // the next pass's entries (none: empty)
  const T* next_x = nullptr;             // and its slice of x row 0
};

template <class T, int Factors>
inline T factor(const Pass<T>& g, int64_t k, int32_t u) {
  T s = T(1);
  if constexpr ((Factors & kWeight) != 0) s = g.w[(g.edge_ids != nullptr ? g.edge_ids[k] : k) * g.heads];
  if constexpr ((Factors & kColScale) != 0) s *= g.c[u];
  return s;
}

// Requests the cache lines of entry k's slice [x + u * stride, + Bytes) and of its factor (the
// factors' loads are random too: c[u]; w through a transpose's edge_ids).
template <class T, int Factors, int64_t Bytes>
inline void request(const Pass<T>& g, int64_t k, const T* x) {
  const int32_t u = g.cols[k];
  const char* p = reinterpret_cast<const char*>(x + u * g.stride);
#pragma GCC unroll 8
  for (int64_t b = 0; b < Bytes; b += 64) __builtin_prefetch(p + b);
  __builtin_prefetch(p + Bytes - 1);  // the slice may straddle one more cache line
  if constexpr ((Factors & kColScale) != 0) __builtin_prefetch(g.c + u);
  if constexpr ((Factors & kWeight) != 0) {
    if (g.edge_ids != nullptr) __builtin_prefetch(g.w + g.edge_ids[k] * g.heads);
  }
}

// out[j] = sum_k factor(k) * x[cols[k], j], in entry order, for the columns of N packs V: pack i
// at column i * lanes, but the last at column `last` <= (N - 1) * lanes, so that any width of at
// least one pack is one pass (columns summed by two packs get the same bits from both). N is a
// template argument so the N accumulators live in registers.
template <class T, class V, int Factors, int N>
void sum_packs(const Pass<T>& g, int64_t last, T* out) {
  constexpr int L = sizeof(V) / sizeof(T);
  constexpr int64_t kBytes = N * sizeof(V), kAhead = ahead(kBytes);
  V acc[N] = {};
  for (int64_t k = g.begin; k < g.end; ++k) {
    const int64_t later = k + kAhead;
    if (later < g.end) {
      request<T, Factors, kBytes>(g, later, g.x);
    } else if (later - g.end + g.next_begin < g.next_end) {
      request<T, Factors, kBytes>(g, later - g.end + g.next_begin, g.next_x);
    }
    const int32_t u = g.cols[k];
    const T* row = g.x + u * g.stride;
    const V s = broadcast<V>(factor<T, Factors>(g, k, u));
#pragma GCC unroll 16
    for (int j = 0; j < N - 1; ++j) acc[j] += s * load<V>(row + j * L);
    acc[N - 1] += s * load<V>(row + last);
  }
#pragma GCC unroll 16
  for (int j = 0; j < N - 1; ++j) store(out + j * L, acc[j]);
  store(out + last, acc[N - 1]);
}

// The same for n columns, fewer than a 16-byte pack holds.
template <class T, int Factors>
void sum_scalars(const Pass<T>& g, int n, T* out) {
  T acc[Pack<T, 16>::lanes] = {};
  for (int64_t k = g.begin; k < g.end; ++k) {
    const int32_t u = g.cols[k];
    const T s = factor<T, Factors>(g, k, u);
    for (int j = 0; j < n; ++j) acc[j] += s * g.x[u * g.stride + j];
  }
  for (int j = 0; j < n; ++j) out[j] = acc[j];
}

// The kernels for one choice of factors: sum_packs for N = 1 .. kPacks packs and for N = 1 ..
// kNarrowPacks 16-byte packs (entries 0 unused), and sum_scalars.
template <class T>
struct PassKernels {
  using Packs = void (*)(const Pass<T>&, int64_t, T*);
  using Scalars = void (*)(const Pass<T>&, int, T*);
  std::array<Packs, kPacks + 1> packs;
  std::array<Packs, kNarrowPacks + 1> narrow;
  Scalars scalars;
};
template <class T, int Factors, size_t... N, size_t... M>
constexpr PassKernels<T> pass_kernels(std::index_sequence<N...>, std::index_sequence<M...>) {
  return {{nullptr, &sum_packs<T, pack_t<T>, Factors, static_cast<int>(N) + 1>...},
          {nullptr, &sum_packs<T, pack_t<T, 16>, Factors, static_cast<int>(M) + 1>...},
          &sum_scalars<T, Factors>};
}
template <class T>
constexpr auto all_pass_kernels() {
  constexpr auto n = std::make_index_sequence<kPacks>();
  constexpr auto m = std::make_index_sequence<kNarrowPacks>();
  return std::array{pass_kernels<T, kNone>(n, m), pass_kernels<T, kWeight>(n, m), pass_kernels<T, kColScale>(n, m),
                    pass_kernels<T, kBoth>(n, m)};
}

// y[j] = act(r * sum[j] + b[j]), the loop chosen outside so that each one vectorises.
template <class T>
void epilogue(const T* sum, int64_t n, T r, const T* b, bool relu, T* y) {
  if (b == nullptr && !relu) {
    for (int64_t j = 0; j < n; ++j) y[j] = r * sum[j];
  } else {
    for (int64_t j = 0; j < n; ++j) {
      const T out = r * sum[j] + (b != nullptr ? b[j] : T(0));
      y[j] = relu && out < 0 ? T(0) : out;
    }
  }
}

}  // namespace

template <class T>
void spmm(const SpmmArgs<T>& p) {
  const CsrView& a = p.a;
  const int64_t H = p.heads, F = p.width;
  if (a.rows == 0 || H * F == 0) return;
  constexpr int L = Pack<T>::lanes, NL = Pack<T, 16>::lanes;
  constexpr int64_t kSlice = kPacks * L;
  static constexpr auto all = all_pass_kernels<T>();
  const PassKernels<T>& kernel = all[(p.w != nullptr ? kWeight : 0) | (p.col_scale != nullptr ? kColScale : 0)];
  // Slices start every kSlice columns, but a last one narrower than a pack starts further left, over
  // columns the slice before has summed: they are summed again (to the same bits) and written again.
  const auto slice_start = [F](int64_t col) { return F >= L ? std::min(col, F - L) : col; };
  parallel_rows(a, H * F, [&](int64_t first, int64_t last) {
    T sum[kSlice];
    // Passes run in (row, head, column slice) order; each is told where the next one starts.
    for (int64_t v = first; v < last; ++v) {
      const T r = p.row_scale != nullptr ? p.row_scale[v] : T(1);
      for (int64_t h = 0; h < H; ++h) {
        T* y = p.y + (v * H + h) * F;
        const T* b = p.bias != nullptr ? p.bias + h * F : nullptr;
        for (int64_t col = 0; col < F; col += kSlice) {
          const int64_t from = slice_start(col), n = std::min(kSlice, F - from);
          Pass<T> g{a.indices,
                    a.edge_ids,
                    a.offsets[v],
                    a.offsets[v + 1],
                    p.x + h * F + from,
                    H * F,
                    p.w != nullptr ? p.w + h : nullptr,
                    H,
                    p.col_scale};
          if (col + kSlice < F) {
            g.next_begin = g.begin, g.next_end = g.end, g.next_x = p.x + h * F + slice_start(col + kSlice);
          } else if (h + 1 < H) {
            g.next_begin = g.begin, g.next_end = g.end, g.next_x = p.x + (h + 1) * F;
          } else if (v + 1 < last) {
            g.next_begin = a.offsets[v + 1], g.next_end = a.offsets[v + 2], g.next_x = p.x;
          }
          if (n >= L) {
            kernel.packs[(n + L - 1) / L](g, n - L, sum);
          } else if (n >= NL) {
            kernel.narrow[(n + NL - 1) / NL](g, n - NL, sum);
          } else {
            kernel.scalars(g, static_cast<int>(n), sum);
          }
          epilogue(sum, n, r, b != nullptr ? b + from : nullptr, p.relu, y + from);
        }
      }
    }
  });
}

template void spmm<float>(const SpmmArgs<float>&);
template void spmm<double>(const SpmmArgs<double>&);

}  // namespace halo::kernels::HALO_KERNEL_ISA
