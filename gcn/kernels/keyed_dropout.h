#pragma once
// Inverted dropout whose mask is a function of names, not positions: element (i, j) of a
// [rows, width] matrix draws the 16 bits
//
//   d(i, j) = (mix64(stream_key(key, ids[i]) ^ mix64(j / 4)) >> (16 * (j % 4))) & 0xffff
//
// (one 64-bit hash serves four columns: the hash is most of dropout's cost, and on AVX2 a 64-bit
// multiply is three), is kept iff d(i, j) >= t = ceil(p * 2^16), and kept elements are scaled by
// 2^16 / (2^16 - t): dropout with p rounded up to a multiple of 2^-16 (exact for 0.5; 0.1 becomes
// 0.100006), unbiased. The draw depends only on (key, ids[i], j), never on i, the thread count or
// the split of the graph into parts. The backward pass is the same map applied to the gradient
// (a fixed diagonal scaling is its own transpose), so no mask is stored.
//
// Edge dropout keys entry k = (u -> v), head h, by the global ids of both ends:
//
//   CounterRng(stream_key(stream_key(key, node_ids[v]), node_ids[u]), h).uniform() >= p
//
// and kept weights are scaled by 1 / (1 - p) (row v's own node is column v, so node_ids covers
// rows too).
#include <cmath>
#include <cstdint>

#include "core/counter_rng.h"
#include "gcn/kernels/sparse_rows.h"
#include "sampling/csr.h"

namespace halo::kernels {

// Node dropout's t above, in [0, 2^16], and its scale (0 when nothing is kept).
inline uint32_t draw16_threshold(double p) { return static_cast<uint32_t>(std::ceil(p * 0x1.0p16)); }
inline double draw16_scale(double p) {
  const uint32_t t = draw16_threshold(p);
  return t >= 0x10000 ? 0.0 : 0x1.0p16 / static_cast<double>(0x10000 - t);
}
// d(i, j) above, from the row's key and mix64(j / 4).
inline uint32_t draw16(uint64_t row_key, uint64_t column_group_mix, int64_t j) {
  return static_cast<uint32_t>((mix64(row_key ^ column_group_mix) >> (16 * (j % 4))) & 0xffff);
}

// Edge dropout: uniform() >= p  <=>  (bits >> 11) >= ceil(p * 2^53): exact, as p * 2^53 is exact
// in double.
inline uint64_t keep_threshold(double p) { return static_cast<uint64_t>(std::ceil(p * 0x1.0p53)); }

// y[i, j] = x[i, j] * (kept ? scale : 0); y may alias x. p in [0, 1]. With relu_gate (same shape
// as x), element (i, j) is also dropped where relu_gate[i, j] <= 0 (NaN passes, as in ReLU):
// dropout of relu(x) when relu_gate is x, and that op's backward when x is the gradient and
// relu_gate the op's input, in one pass over memory instead of two or three.
template <class T>
void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,
                   const T* relu_gate = nullptr);
template <class T>
void keyed_dropout_reference(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p,
                             const T* relu_gate = nullptr);

// The same mask on sparse rows: entry k of row i, in column c[k], is element (i, c[k]) of the
// dense matrix and is kept or dropped exactly as there. values_out: one per entry of x.
template <class T>
void keyed_dropout_sparse(const SparseRowsView<T>& x, T* values_out, const int64_t* ids, uint64_t key, double p);

// w, out: [edges, H] indexed by edge_id; node_ids: [a.cols]; out may alias w.
template <class T>
void keyed_edge_dropout(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids, uint64_t key,
                        double p);
template <class T>
void keyed_edge_dropout_reference(const CsrView& a, int64_t heads, const T* w, T* out, const int64_t* node_ids,
                                  uint64_t key, double p);

}  // namespace halo::kernels
