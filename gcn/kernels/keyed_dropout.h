#pragma once
// Inverted dropout whose mask is a function of names, not positions: element (i, j) of a
// [rows, width] matrix is kept iff
//
//   CounterRng(stream_key(key, ids[i]), j).uniform() >= p
//
// and kept elements are scaled by 1 / (1 - p). The draw depends only on (key, ids[i], j), never
// on i, the thread count or the split of the graph into parts. The backward pass is the same
// map applied to the gradient (a fixed diagonal scaling is its own transpose), so no mask is
// stored.
//
// Edge dropout keys entry k = (u -> v), head h, by the global ids of both ends:
//
//   CounterRng(stream_key(stream_key(key, node_ids[v]), node_ids[u]), h).uniform() >= p
//
// (row v's own node is column v, so node_ids covers rows too).
#include <cmath>
#include <cstdint>

#include "gcn/kernels/sparse_rows.h"
#include "sampling/csr.h"

namespace halo::kernels {

// uniform() >= p  <=>  (bits >> 11) >= ceil(p * 2^53): exact, as p * 2^53 is exact in double.
inline uint64_t keep_threshold(double p) { return static_cast<uint64_t>(std::ceil(p * 0x1.0p53)); }

// y[i, j] = x[i, j] * (kept ? 1 / (1 - p) : 0); y may alias x. p in [0, 1].
template <class T>
void keyed_dropout(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p);
template <class T>
void keyed_dropout_reference(const T* x, T* y, int64_t rows, int64_t width, const int64_t* ids, uint64_t key, double p);

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
