#pragma once
// Softmax over the entries of each row, per head (GAT's attention weights):
//
//   forward:   p[e, h] = exp(s[e, h] - m[v, h]) / sum_{k in row v} exp(s[k, h] - m[v, h]),
//              m[v, h] = max_{k in row v} s[k, h]   (subtracting it keeps exp from overflowing)
//   backward:  ds[e, h] = p[e, h] * (dp[e, h] - sum_{k in row v} p[k, h] * dp[k, h])
//
// e = edge_id(k). A row whose scores are all -inf for a head (fully masked) gets p = 0 there.
#include <cstdint>

#include "sampling/csr.h"

namespace halo::kernels {

// s, p: [edges, H].
template <class T>
void edge_softmax(const CsrView& a, int64_t heads, const T* s, T* p);
template <class T>
void edge_softmax_reference(const CsrView& a, int64_t heads, const T* s, T* p);

// p, dp, ds: [edges, H]; ds may alias dp.
template <class T>
void edge_softmax_backward(const CsrView& a, int64_t heads, const T* p, const T* dp, T* ds);
template <class T>
void edge_softmax_backward_reference(const CsrView& a, int64_t heads, const T* p, const T* dp, T* ds);

}  // namespace halo::kernels
