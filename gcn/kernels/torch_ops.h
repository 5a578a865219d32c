#pragma once
// The graph kernels as LibTorch ops: what graph_ops runs on a device without custom kernels
// (GPUs), with the semantics of the CPU kernels next to this file. They gather per entry and
// reduce per row with segment_reduce, never with atomics, so results do not depend on thread
// scheduling; dropout hashes (key, node id, column) with the same counter-based generator as
// the CPU kernels, so a mask is the same bits on any device.
//
// `a` is an adjacency as tensors (Block::tensors); edge-valued tensors ([nnz, H]) are indexed
// by edge id, as in the CPU kernels.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "sampling/block.h"

namespace halo::kernels::torch_ops {

// y[v] = act( r[v] * sum_{k=(u->v)} c[u] * w[edge(k)] * x[u] + bias ): x [cols, F] (heads == 0:
// no w) or [cols, H, F] with w [nnz, H]; r, c, w, bias may be undefined.
at::Tensor spmm(const CsrTensors& a, const at::Tensor& x, const at::Tensor& w, const at::Tensor& r, const at::Tensor& c,
                const at::Tensor& bias, bool relu);
// dw[edge(k), h] = <dy[v, h], x[u, h]> for entry k = (u -> v); dy [rows, H, F], x [cols, H, F].
at::Tensor sddmm(const CsrTensors& a, const at::Tensor& dy, const at::Tensor& x);
// s[edge(k), h] = d[v, h] + s_src[u, h].
at::Tensor edge_add(const CsrTensors& a, const at::Tensor& d, const at::Tensor& s_src);
// out[v, h] = sum over row v of s[edge(k), h].
at::Tensor edge_row_sum(const CsrTensors& a, const at::Tensor& s);
// Softmax per row and head; a row whose scores are all -inf gets 0.
at::Tensor edge_softmax(const CsrTensors& a, const at::Tensor& scores);
at::Tensor edge_softmax_backward(const CsrTensors& a, const at::Tensor& p, const at::Tensor& dp);
// keyed_dropout.h's masks: rows of x by ids [rows]; entries of `a` by node_ids [cols] and head.
at::Tensor keyed_dropout(const at::Tensor& x, const at::Tensor& ids, uint64_t key, double p);
at::Tensor keyed_edge_dropout(const CsrTensors& a, const at::Tensor& w, const at::Tensor& node_ids, uint64_t key,
                              double p);

}  // namespace halo::kernels::torch_ops
