#pragma once
// The general message path, for layers that the fused ops of graph_ops.h do not cover (GIN with
// an edge MLP, EdgeConv, edge-conditioned convolutions): PyG's MessagePassing as three
// differentiable steps over a Block's entries, with any LibTorch ops between them.
//
//   x_j = gather_sources(block, loops, x);        // [nnz, F]: the source row of every entry
//   x_i = gather_destinations(block, loops, x);   // [nnz, F]: its destination row
//   m   = my_mlp(at::cat({x_i, x_j - x_i}, 1));   // any per-entry message
//   y   = reduce_messages(block, loops, m, Reduce::max);   // [rows, F']
//
// Entries are numbered as in graph_ops.h (CSR order: grouped by destination), the order of
// edge_add's and edge_softmax's results, so attention weights and messages line up. Each step is
// made of LibTorch ops (index_select, segment_reduce), whose autograd gives the adjoints:
// gathers scatter-add back, a reduction hands each entry its row's gradient (max: to the
// entry that won). They run on any device, without new kernels, and cost an [nnz, F] tensor per
// step; where a layer's maths is a weighted sum, graph_ops' fused aggregate is faster and keeps
// nothing per entry. Reductions take a row's entries in order, so forward results do not depend
// on thread scheduling; on a GPU the gathers' backward (index_add) adds with atomics, so
// gradients there may differ in the last bits from run to run.
#include <ATen/core/Tensor.h>

#include "gcn/graph_ops.h"

namespace halo {

// x: [block.num_cols(), ...] -> [nnz, ...], entry e = (u -> v) gets x[u].
at::Tensor gather_sources(const Block& block, Loops loops, const at::Tensor& x);

// x: [block.num_rows(), ...] or [block.num_cols(), ...] (a layer's input; row v is column v)
// -> [nnz, ...], entry e = (u -> v) gets x[v].
at::Tensor gather_destinations(const Block& block, Loops loops, const at::Tensor& x);

enum class Reduce { sum, mean, max, min };

// messages: [nnz, ...] -> [block.num_rows(), ...], row v reducing its entries' messages; a row
// without entries gets 0 (as in PyG).
at::Tensor reduce_messages(const Block& block, Loops loops, const at::Tensor& messages, Reduce reduce);

}  // namespace halo
