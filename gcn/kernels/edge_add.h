#pragma once
// Edge values from node values and back: GAT's attention logits and their gradients.
//
//   edge_add:      s[edge_id(k), h] = d[v, h] + s_src[u, h]            for entry k = (u -> v)
//   edge_row_sum:  out[v, h] = sum_{k in row v} s[edge_id(k), h]
//
// edge_add's backward is two row sums: dd = edge_row_sum(A, ds), and ds_src =
// edge_row_sum(A^T, ds), whose edge_ids reach the entries of A (a column sum without atomics).
#include <cstdint>

#include "sampling/csr.h"

namespace halo::kernels {

// d: [rows, H], s_src: [cols, H] -> s: [edges, H].
template <class T>
void edge_add(const CsrView& a, int64_t heads, const T* d, const T* s_src, T* s);
template <class T>
void edge_add_reference(const CsrView& a, int64_t heads, const T* d, const T* s_src, T* s);

// s: [edges, H] -> out: [rows, H], entries summed in CSR order.
template <class T>
void edge_row_sum(const CsrView& a, int64_t heads, const T* s, T* out);
template <class T>
void edge_row_sum_reference(const CsrView& a, int64_t heads, const T* s, T* out);

}  // namespace halo::kernels
