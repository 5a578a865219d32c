#include "gcn/kernels/sddmm.h"

#include <algorithm>
#include <cstring>

#include "gcn/kernels/isa_kernels.h"
#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/simd.h"

namespace halo::kernels::HALO_KERNEL_ISA {
namespace {

// sum_j a[j] * b[j] in a fixed order, the same for every pack width: 64 bytes of independent
// partial sums (16 floats or 8 doubles: sum i adds the terms j = i mod 16 or 8, in order), so the
// adds do not wait on each other and the loop vectorises without reassociating; then its four
// quarters added pairwise, lane by lane, their lanes in order, and the tail.
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  using V = pack_t<T>;
  constexpr int L = Pack<T>::lanes, kSums = 64 / sizeof(T), kQuarter = kSums / 4;
  V acc[kSums / L] = {};
  int64_t j = 0;
  for (; j + kSums <= n; j += kSums) {
#pragma GCC unroll 4
    for (int q = 0; q < kSums / L; ++q) acc[q] += load<V>(a + j + q * L) * load<V>(b + j + q * L);
  }
  T sums[kSums];
  std::memcpy(sums, acc, sizeof(sums));
  T sum = 0;
  for (int l = 0; l < kQuarter; ++l) {
    sum += (sums[l] + sums[kQuarter + l]) + (sums[2 * kQuarter + l] + sums[3 * kQuarter + l]);
  }
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

}  // namespace

template <class T>
void sddmm(const SddmmArgs<T>& p) {
  const CsrView& a = p.a;
  const int64_t H = p.heads, F = p.width;
  if (H == 0) return;
  // The x rows are random, as in SpMM: request the row of the entry `ahead` further on (rows
  // follow each other in a range, so this runs on across rows), keeping about 6 KiB in flight.
  const int64_t row_bytes = H * F * static_cast<int64_t>(sizeof(T));
  const int64_t ahead = std::clamp<int64_t>(6144 / std::max<int64_t>(row_bytes, 1), 8, 48);
  parallel_rows(a, H * F, [&](int64_t first, int64_t last) {
    const int64_t range_end = a.offsets[last];
    for (int64_t v = first; v < last; ++v) {
      const T r = p.row_scale != nullptr ? p.row_scale[v] : T(1);
      for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
        if (k + ahead < range_end) {
          const char* row = reinterpret_cast<const char*>(p.x + a.indices[k + ahead] * H * F);
          for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(row + b);
        }
        const int64_t u = a.indices[k];
        const T s = p.col_scale != nullptr ? r * p.col_scale[u] : r;
        T* dw = p.dw + edge_id(a, k) * H;
        for (int64_t h = 0; h < H; ++h) dw[h] = s * dot(p.dy + (v * H + h) * F, p.x + (u * H + h) * F, F);
      }
    }
  });
}

template void sddmm<float>(const SddmmArgs<float>&);
template void sddmm<double>(const SddmmArgs<double>&);

}  // namespace halo::kernels::HALO_KERNEL_ISA
