#pragma once
// Differentiable graph operations over a Block: what a GraphLayer composes, next to ordinary
// LibTorch ops. On the CPU each runs a oneTBB kernel from gcn/kernels/ (float32 and float64),
// on other devices the same maths as LibTorch ops (gcn/kernels/torch_ops.h); tensors live on
// the Block's device (Block::to). Each has a backward pass; none knows about MPI or parts.
//
// Notation: the chosen adjacency A (Loops::without = the Block's edges, Loops::with = plus
// (v, v) for every row v) has one entry e = (u -> v) per edge, numbered in CSR order; x has
// one row per Block column, results one row per Block row.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "sampling/block.h"

namespace halo {

enum class Loops { without, with };

// The adjacency A that `loops` chooses: the Block's edges, or with (v, v) added for every row.
const Csr& adjacency(const Block& block, Loops loops);

// While one lives, the ops run as LibTorch ops on the CPU too, as they do on a GPU: to test or
// compare that path on a machine without one.
class TorchOpsOnCpu {
 public:
  TorchOpsOnCpu();
  ~TorchOpsOnCpu();
  TorchOpsOnCpu(const TorchOpsOnCpu&) = delete;
  TorchOpsOnCpu& operator=(const TorchOpsOnCpu&) = delete;
};

struct AggregateOptions {
  // The scales are constants (degrees): converted to x's dtype and never differentiated.
  at::Tensor row_scale;  // [rows] r, or undefined for 1
  at::Tensor col_scale;  // [cols] c, or undefined for 1 (cheaper still: fold c into x beforehand)
  at::Tensor bias;       // [F] b added after aggregation, or undefined
  bool relu = false;     // max(0, .) applied last
};

// y[v] = act( r[v] * sum_{e=(u->v)} c[u] * x[u] + b ), x: [cols, F] -> y: [rows, F].
// Mean aggregation is r = 1 / degree; GCN's symmetric normalisation r = c = deg^-1/2.
at::Tensor aggregate(const Block& block, Loops loops, const at::Tensor& x, const AggregateOptions& options = {});

// Multi-head weighted sum: y[v, h] = sum_{e=(u->v)} w[e, h] * x[u, h];
// x: [cols, H, F], w: [nnz, H] -> y: [rows, H, F]. Differentiable in x and w.
at::Tensor weighted_aggregate(const Block& block, Loops loops, const at::Tensor& w, const at::Tensor& x);

// Per-entry sum of a destination and a source term: s[e, h] = d[v, h] + s_src[u, h] for
// e = (u -> v); d: [rows, H], s_src: [cols, H] -> [nnz, H] (GAT's attention logits).
at::Tensor edge_add(const Block& block, Loops loops, const at::Tensor& d, const at::Tensor& s_src);

// Softmax over the entries of each row, per head: [nnz, H] -> [nnz, H]. An empty row has no
// entries; a row's weights sum to 1.
at::Tensor edge_softmax(const Block& block, Loops loops, const at::Tensor& scores);

// x . weight + add (add: [n, out], a bias [out], or undefined): x dense or sparse rows [n, in]
// (sparse_features.h), weight [in, out] -> [n, out]. Sparse rows are the input features, a constant: only weight and
// add receive gradients. A layer that projects with this may declare takes_sparse_input().
at::Tensor project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& add = {});

// A keyed dropout (keyed_dropout's arguments) for an op to apply to its input.
struct KeyedDropout {
  double p = 0;
  uint64_t key = 0;
  at::Tensor ids;  // int64 [rows of x]
  bool training = false;
};

// What a layer applies to its input x before anything else: the previous layer's ReLU, when
// the Model leaves it to the layer (GraphLayerImpl::fuses_input()), then the layer's dropout.
struct InputOps {
  bool relu = false;
  KeyedDropout dropout;
};

// x with `ops` applied, as a new tensor (x itself when there is nothing to apply).
at::Tensor apply_input_ops(const at::Tensor& x, const InputOps& ops);

// One product of input_project: t[:rows] . weight + add, t = x with the ops applied; rows = -1
// for all of x's rows; add as in project().
struct Projection {
  Projection(at::Tensor weight, at::Tensor add = {}, int64_t rows = -1)
      : weight(std::move(weight)), add(std::move(add)), rows(rows) {}
  at::Tensor weight;
  at::Tensor add;
  int64_t rows;
};

// Every projection of apply_input_ops(x, ops), in one pass over x and without a copy of the
// transformed x at any point: forward and backward transform x 8192 rows at a time (redrawing
// the dropout from its key), so from forward to backward only x is kept -- which the previous
// layer keeps anyway -- and x's gradient is one tensor summing every projection's. On a hidden
// layer of 200k rows x 256 that is 200 MB less at the peak than dropout, then project.
// x may be sparse rows (the input features; no ReLU then), which take the unfused path.
std::vector<at::Tensor> input_project(const at::Tensor& x, const InputOps& ops,
                                      const std::vector<Projection>& projections);

// The first n rows of dense or sparse rows x, without copying them.
at::Tensor leading_rows(const at::Tensor& x, int64_t n);

// Inverted dropout whose mask depends only on (key, node id, column): element (i, j) is kept
// iff the counter-based 16-bit draw for (key, ids[i], j) is >= p * 2^16, and kept values are
// scaled to keep the mean (gcn/kernels/keyed_dropout.h: p counts in steps of 2^-16).
// ids: int64 [rows of x] (global node ids). Identity when !training or p == 0.
// x may be sparse rows (then without gradients): entries are dropped as their dense elements.
at::Tensor keyed_dropout(const at::Tensor& x, double p, uint64_t key, const at::Tensor& ids, bool training);

// The same for the entries of an adjacency, keyed by (key, global id of v, global id of u, head)
// via block.node_ids(): GAT's attention dropout, identical in any split of the graph.
at::Tensor keyed_edge_dropout(const Block& block, Loops loops, const at::Tensor& w, double p, uint64_t key,
                              bool training);

}  // namespace halo
