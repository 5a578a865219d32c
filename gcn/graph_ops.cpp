#include "gcn/graph_ops.h"

#include <ATen/Dispatch.h>
#include <fmt/format.h>
#include <torch/autograd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/gemm.h"
#include "gcn/kernels/edge_add.h"
#include "gcn/kernels/edge_softmax.h"
#include "gcn/kernels/keyed_dropout.h"
#include "gcn/kernels/sddmm.h"
#include "gcn/kernels/sparse_rows.h"
#include "gcn/kernels/spmm.h"
#include "gcn/kernels/torch_ops.h"
#include "gcn/sparse_features.h"

namespace halo {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<int> torch_ops_on_cpu{0};

// The oneTBB kernels take CPU tensors; other devices (and the CPU under TorchOpsOnCpu) run the
// same maths as LibTorch ops.
bool use_kernels(const at::Tensor& t) { return t.is_cpu() && torch_ops_on_cpu.load() == 0; }

// ---- checks -------------------------------------------------------------------------------

std::string shape_text(at::IntArrayRef sizes) {
  std::vector<std::string> parts;
  for (int64_t s : sizes) parts.push_back(s < 0 ? "*" : std::to_string(s));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

// `t` must be a defined float32/float64 tensor on `device` with the shape `expected` (-1: any size).
void check_tensor(const char* op, const char* name, const at::Tensor& t, std::vector<int64_t> expected,
                  at::Device device) {
  if (!t.defined()) throw Error(fmt::format("{}: {} is undefined", op, name));
  if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble) {
    throw Error(
        fmt::format("{}: {} has dtype {}, expected float32 or float64", op, name, c10::toString(t.scalar_type())));
  }
  if (t.device() != device) {
    throw Error(fmt::format("{}: {} is on {}, expected {}", op, name, t.device().str(), device.str()));
  }
  bool match = t.dim() == static_cast<int64_t>(expected.size());
  for (size_t i = 0; match && i < expected.size(); ++i) match = expected[i] < 0 || expected[i] == t.size(i);
  if (!match) {
    throw Error(fmt::format("{}: {} has shape {}, expected {}", op, name, shape_text(t.sizes()), shape_text(expected)));
  }
}

void check_same_dtype(const char* op, const char* name, const at::Tensor& t, const at::Tensor& x) {
  if (t.scalar_type() != x.scalar_type()) {
    throw Error(fmt::format("{}: {} has dtype {} but x has {}", op, name, c10::toString(t.scalar_type()),
                            c10::toString(x.scalar_type())));
  }
}

void check_probability(const char* op, double p) {
  if (!(p >= 0 && p <= 1)) throw Error(fmt::format("{}: p = {} is outside [0, 1]", op, p));
}

// ---- the adjacency of an op ---------------------------------------------------------------

const Csr& adjacency_t(const Block& block, Loops loops) {
  return loops == Loops::with ? block.with_self_loops_t() : block.adjacency_t();
}
const Csr& adjacency_t_pattern(const Block& block, Loops loops) {
  return loops == Loops::with ? block.with_self_loops_t_pattern() : block.adjacency_t_pattern();
}

// The Block outlives the autograd graph built on it (graph_ops.h): a Trainer keeps the epoch's
// Block until the backward pass is done. saved_data holds IValues only, so the Block travels as
// its address; nothing is copied, and the transposes it builds lazily are kept for the next call.
void save_block(AutogradContext* ctx, const Block* block, int64_t loops) {
  ctx->saved_data["block"] = reinterpret_cast<int64_t>(block);
  ctx->saved_data["loops"] = loops;
}
const Block& saved_block(AutogradContext* ctx) {
  return *reinterpret_cast<const Block*>(ctx->saved_data["block"].toInt());
}
Loops saved_loops(AutogradContext* ctx) { return static_cast<Loops>(ctx->saved_data["loops"].toInt()); }

template <class T>
const T* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// ---- aggregate ----------------------------------------------------------------------------

at::Tensor run_spmm(const Block& block, const Csr& a, const at::Tensor& x, int64_t heads, const at::Tensor& w,
                    const at::Tensor& r, const at::Tensor& c, const at::Tensor& bias, bool relu) {
  if (!use_kernels(x)) return kernels::torch_ops::spmm(block.tensors(a), x, w, r, c, bias, relu);
  // From the sizes, not numel / rows: x may have no rows (a halo part without halo columns).
  int64_t row_numel = 1;
  for (int64_t d = 1; d < x.dim(); ++d) row_numel *= x.size(d);
  const int64_t width = heads == 0 ? 0 : row_numel / heads;
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes[0] = a.rows();
  at::Tensor y = at::empty(sizes, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm", [&] {
    kernels::SpmmArgs<scalar_t> args;
    args.a = a.view();
    args.heads = heads;
    args.width = width;
    args.x = x.data_ptr<scalar_t>();
    args.w = data_or_null<scalar_t>(w);
    args.row_scale = data_or_null<scalar_t>(r);
    args.col_scale = data_or_null<scalar_t>(c);
    args.bias = data_or_null<scalar_t>(bias);
    args.relu = relu;
    args.y = y.data_ptr<scalar_t>();
    kernels::spmm(args);
  });
  return y;
}

// Optional tensors travel as c10::optional: LibTorch 1.13 refuses an undefined at::Tensor as an
// input of a custom Function, and an empty optional is not an input at all.
using Optional = c10::optional<at::Tensor>;

at::Tensor or_undefined(const Optional& t) { return t.has_value() ? *t : at::Tensor(); }

struct AggregateFunction : torch::autograd::Function<AggregateFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const Optional& bias, const Optional& r,
                            const Optional& c, const Block* block, int64_t loops, bool relu) {
    at::Tensor y = run_spmm(*block, adjacency(*block, static_cast<Loops>(loops)), x, 1, {}, or_undefined(r),
                            or_undefined(c), or_undefined(bias), relu);
    save_block(ctx, block, loops);
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["has_bias"] = bias.has_value() && bias->defined();
    ctx->save_for_backward({or_undefined(r), or_undefined(c), relu ? y : at::Tensor()});
    return y;
  }

  // With g = dy * (y > 0) under relu: dx = A^T-aggregate of g with r and c exchanged, db = sum_v g[v].
  // (r and c are constants: no gradient.)
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    at::Tensor g = grads[0].contiguous();
    if (ctx->saved_data["relu"].toBool()) g = at::threshold_backward(g, saved[2], 0);
    at::Tensor dx, dbias;
    if (ctx->needs_input_grad(0)) {
      const Block& block = saved_block(ctx);
      dx = run_spmm(block, adjacency_t_pattern(block, saved_loops(ctx)), g, 1, {}, saved[1], saved[0], {}, false);
    }
    // needs_input_grad counts tensor inputs only: the bias is the second when present.
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(1)) dbias = g.sum(0);
    return {dx, dbias, {}, {}, {}, {}, {}};
  }
};

// ---- weighted_aggregate -------------------------------------------------------------------

struct WeightedAggregateFunction : torch::autograd::Function<WeightedAggregateFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& w, const at::Tensor& x, const Block* block,
                            int64_t loops) {
    save_block(ctx, block, loops);
    ctx->save_for_backward({w, x});
    return run_spmm(*block, adjacency(*block, static_cast<Loops>(loops)), x, w.size(1), w, {}, {}, {}, false);
  }

  // dx[u, h] = sum_{e=(u->v)} w[e, h] dy[v, h] (SpMM on A^T); dw[e, h] = <dy[v, h], x[u, h]> (SDDMM).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &w = saved[0], &x = saved[1];
    const at::Tensor dy = grads[0].contiguous();
    const Block& block = saved_block(ctx);
    const Loops loops = saved_loops(ctx);
    at::Tensor dw, dx;
    if (ctx->needs_input_grad(1)) dx = run_spmm(block, adjacency_t(block, loops), dy, w.size(1), w, {}, {}, {}, false);
    if (ctx->needs_input_grad(0) && !use_kernels(x)) {
      dw = kernels::torch_ops::sddmm(block.tensors(adjacency(block, loops)), dy, x);
    } else if (ctx->needs_input_grad(0)) {
      dw = at::empty_like(w);
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sddmm", [&] {
        kernels::SddmmArgs<scalar_t> args;
        args.a = adjacency(block, loops).view();
        args.heads = x.size(1);
        args.width = x.size(2);
        args.dy = dy.data_ptr<scalar_t>();
        args.x = x.data_ptr<scalar_t>();
        args.dw = dw.data_ptr<scalar_t>();
        kernels::sddmm(args);
      });
    }
    return {dw, dx, {}, {}};
  }
};

// ---- edge_add -----------------------------------------------------------------------------

// out[v, h] = sum over row v of `a` of s[edge_id(k), h].
at::Tensor row_sums(const Block& block, const Csr& a, const at::Tensor& s) {
  if (!use_kernels(s)) return kernels::torch_ops::edge_row_sum(block.tensors(a), s);
  at::Tensor out = at::empty({a.rows(), s.size(1)}, s.options());
  AT_DISPATCH_FLOATING_TYPES(s.scalar_type(), "edge_row_sum", [&] {
    kernels::edge_row_sum(a.view(), s.size(1), s.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
  });
  return out;
}

struct EdgeAddFunction : torch::autograd::Function<EdgeAddFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& d, const at::Tensor& s_src, const Block* block,
                            int64_t loops) {
    save_block(ctx, block, loops);
    const Csr& a = adjacency(*block, static_cast<Loops>(loops));
    if (!use_kernels(d)) return kernels::torch_ops::edge_add(block->tensors(a), d, s_src);
    at::Tensor s = at::empty({a.nnz(), d.size(1)}, d.options());
    AT_DISPATCH_FLOATING_TYPES(d.scalar_type(), "edge_add", [&] {
      kernels::edge_add(a.view(), d.size(1), d.data_ptr<scalar_t>(), s_src.data_ptr<scalar_t>(),
                        s.data_ptr<scalar_t>());
    });
    return s;
  }

  // dd = row sums of ds over A; ds_src = row sums over A^T (column sums of A, no atomics).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor ds = grads[0].contiguous();
    const Block& block = saved_block(ctx);
    const Loops loops = saved_loops(ctx);
    at::Tensor dd, ds_src;
    if (ctx->needs_input_grad(0)) dd = row_sums(block, adjacency(block, loops), ds);
    if (ctx->needs_input_grad(1)) ds_src = row_sums(block, adjacency_t(block, loops), ds);
    return {dd, ds_src, {}, {}};
  }
};

// ---- edge_softmax -------------------------------------------------------------------------

struct EdgeSoftmaxFunction : torch::autograd::Function<EdgeSoftmaxFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& scores, const Block* block, int64_t loops) {
    save_block(ctx, block, loops);
    const Csr& a = adjacency(*block, static_cast<Loops>(loops));
    at::Tensor p;
    if (!use_kernels(scores)) {
      p = kernels::torch_ops::edge_softmax(block->tensors(a), scores);
    } else {
      p = at::empty_like(scores);
      AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "edge_softmax", [&] {
        kernels::edge_softmax(a.view(), scores.size(1), scores.data_ptr<scalar_t>(), p.data_ptr<scalar_t>());
      });
    }
    ctx->save_for_backward({p});
    return p;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor p = ctx->get_saved_variables()[0];
    const at::Tensor dp = grads[0].contiguous();
    const Block& block = saved_block(ctx);
    const Csr& a = adjacency(block, saved_loops(ctx));
    if (!use_kernels(p)) return {kernels::torch_ops::edge_softmax_backward(block.tensors(a), p, dp), {}, {}};
    at::Tensor ds = at::empty_like(p);
    AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "edge_softmax_backward", [&] {
      kernels::edge_softmax_backward(a.view(), p.size(1), p.data_ptr<scalar_t>(), dp.data_ptr<scalar_t>(),
                                     ds.data_ptr<scalar_t>());
    });
    return {ds, {}, {}};
  }
};

// ---- keyed dropout ------------------------------------------------------------------------

// The mask is recomputed in backward rather than stored: one hash per element is cheaper than
// keeping a second copy of every dropped activation alive until backward.
// Into `out` when given (which may be x itself); relu_gate: kernels::keyed_dropout's.
at::Tensor dropout_rows(const at::Tensor& x, const at::Tensor& ids, double p, uint64_t key, at::Tensor out = {},
                        const at::Tensor& relu_gate = {}) {
  if (!use_kernels(x)) {
    at::Tensor y = kernels::torch_ops::keyed_dropout(x, ids, key, p);
    if (relu_gate.defined()) y.masked_fill_(relu_gate.le(0), 0);
    return out.defined() ? out.copy_(y) : y;
  }
  if (!out.defined()) out = at::empty_like(x);
  const int64_t rows = x.size(0), width = rows == 0 ? 0 : x.numel() / rows;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "keyed_dropout", [&] {
    kernels::keyed_dropout(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows, width, ids.data_ptr<int64_t>(), key,
                           p, relu_gate.defined() ? relu_gate.data_ptr<scalar_t>() : nullptr);
  });
  return out;
}

// Dropout of x, or of relu(x) in the same pass (relu: x is kept for backward's gate).
struct KeyedDropoutFunction : torch::autograd::Function<KeyedDropoutFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& ids, double p, int64_t key,
                            bool relu) {
    ctx->saved_data["p"] = p;
    ctx->saved_data["key"] = key;
    ctx->save_for_backward({ids, relu ? x : at::Tensor()});
    return dropout_rows(x, ids, p, static_cast<uint64_t>(key), {}, relu ? x : at::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    return {dropout_rows(grads[0].contiguous(), saved[0], ctx->saved_data["p"].toDouble(),
                         static_cast<uint64_t>(ctx->saved_data["key"].toInt()), {}, saved[1]),
            {},
            {},
            {},
            {}};
  }
};

// The projections of t = dropout(relu(x)) (input_project), kBlockRows rows of t at a time: both
// passes transform a block of x, use it for every projection and drop it; ~9k-row products
// still run at full speed (1k-16k rows measured alike). Without ops too: OpenBLAS packs up to
// its whole per-thread buffer (128 MiB) for one product over all rows, and that stays resident
// (+190 MiB at 2 threads for 200k rows). 9216 = 48 x 192: whole multiples of oneDNN's 48 rows
// per thread for 1-4, 6, 8, 12 or 16 threads, so no block ends in a padded tail (core/gemm).
struct InputProjectFunction : torch::autograd::Function<InputProjectFunction> {
  static constexpr int64_t kBlockRows = 9216;

  struct Ops {
    bool relu;
    double p;  // 0: no dropout
    uint64_t key;
  };
  // Rows r .. r + n of t; ids only read with a dropout to draw.
  static at::Tensor transform(const at::Tensor& x, const at::Tensor& ids, const Ops& ops, int64_t r, int64_t n) {
    const at::Tensor xb = x.narrow(0, r, n);
    if (ops.p == 0) return ops.relu ? at::relu(xb) : xb;
    return dropout_rows(xb, ids.narrow(0, r, n), ops.p, ops.key, {}, ops.relu ? xb : at::Tensor());
  }
  static Ops saved_ops(AutogradContext* ctx) {
    return {ctx->saved_data["relu"].toBool(), ctx->saved_data["p"].toDouble(),
            static_cast<uint64_t>(ctx->saved_data["key"].toInt())};
  }
  // Rows r .. r + n of x meet rows r .. r + rows_in_block(...) of a projection over `rows` rows.
  static int64_t rows_in_block(int64_t rows, int64_t r, int64_t n) { return std::clamp<int64_t>(rows - r, 0, n); }

  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const Optional& ids_or_none, bool relu,
                               double p, int64_t key, const std::vector<int64_t>& rows, at::TensorList weights) {
    const at::Tensor ids = or_undefined(ids_or_none);
    const Ops ops{relu, p, static_cast<uint64_t>(key)};
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["p"] = p;
    ctx->saved_data["key"] = key;
    ctx->saved_data["rows"] = rows;
    variable_list saved{x, ids};
    saved.insert(saved.end(), weights.begin(), weights.end());
    ctx->save_for_backward(saved);
    variable_list ys;
    for (size_t k = 0; k < weights.size(); ++k) ys.push_back(at::empty({rows[k], weights[k].size(1)}, x.options()));
    const int64_t used = *std::max_element(rows.begin(), rows.end());
    for (int64_t r = 0; r < used; r += kBlockRows) {
      const int64_t n = std::min(kBlockRows, used - r);
      const at::Tensor t = transform(x, ids, ops, r, n);
      for (size_t k = 0; k < weights.size(); ++k) {
        const int64_t m = rows_in_block(rows[k], r, n);
        if (m == 0) continue;
        const at::Tensor out = ys[k].narrow(0, r, m);
        gemm_out(out, t.narrow(0, 0, m), weights[k]);
      }
    }
    return ys;
  }

  // dW_k = t^T dy_k; dx = relu'(x) * dropout(sum_k dy_k W_k^T) (dropout's backward is itself).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &ids = saved[1];
    const variable_list weights(saved.begin() + 2, saved.end());
    const Ops ops = saved_ops(ctx);
    const std::vector<int64_t> rows = ctx->saved_data["rows"].toIntVector();
    const bool dx_needed = ctx->needs_input_grad(0);
    at::Tensor dx = dx_needed ? at::empty_like(x) : at::Tensor();
    variable_list dws(weights.size());
    // needs_input_grad counts tensor inputs only: ids is one when there is a dropout.
    const size_t first_weight = ops.p > 0 ? 2 : 1;
    for (size_t k = 0; k < weights.size(); ++k) {
      if (ctx->needs_input_grad(first_weight + k)) dws[k] = at::zeros_like(weights[k]);
    }
    const bool dw_needed = std::any_of(dws.begin(), dws.end(), [](const at::Tensor& d) { return d.defined(); });
    const int64_t used = *std::max_element(rows.begin(), rows.end());
    for (int64_t r = 0; r < used; r += kBlockRows) {
      const int64_t n = std::min(kBlockRows, used - r);
      const at::Tensor t = dw_needed ? transform(x, ids, ops, r, n) : at::Tensor();
      at::Tensor dxb = dx_needed ? dx.narrow(0, r, n) : at::Tensor();
      bool written = false;  // whether dxb holds a sum yet (the first full-block product writes it)
      for (size_t k = 0; k < weights.size(); ++k) {
        const int64_t m = rows_in_block(rows[k], r, n);
        if (m == 0 || !grads[k].defined()) continue;
        const at::Tensor dy = grads[k].narrow(0, r, m);
        if (dws[k].defined()) gemm_accumulate(dws[k], t.narrow(0, 0, m).t(), dy);
        if (!dx_needed) continue;
        if (!written && m == n) {
          gemm_out(dxb, dy, weights[k].t());
        } else {
          if (!written) dxb.zero_();
          gemm_accumulate(dxb.narrow(0, 0, m), dy, weights[k].t());
        }
        written = true;
      }
      if (!dx_needed) continue;
      if (!written) dxb.zero_();
      const at::Tensor xb = x.narrow(0, r, n);
      if (ops.p > 0) {
        dropout_rows(dxb, ids.narrow(0, r, n), ops.p, ops.key, dxb, ops.relu ? xb : at::Tensor());
      } else if (ops.relu) {
        at::threshold_backward_out(dxb, dxb, xb, 0);
      }
    }
    // Rows no projection reads.
    if (dx_needed && used < x.size(0)) dx.narrow(0, used, x.size(0) - used).zero_();
    // One gradient per input of forward, TensorList elements each counted.
    variable_list out{dx, {}, {}, {}, {}, {}};
    out.insert(out.end(), dws.begin(), dws.end());
    return out;
  }
};

at::Tensor dropout_edges(const Block& block, Loops loops, const at::Tensor& w, double p, uint64_t key) {
  if (!use_kernels(w)) {
    return kernels::torch_ops::keyed_edge_dropout(block.tensors(adjacency(block, loops)), w, block.node_ids(), key, p);
  }
  at::Tensor out = at::empty_like(w);
  AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "keyed_edge_dropout", [&] {
    kernels::keyed_edge_dropout(adjacency(block, loops).view(), w.size(1), w.data_ptr<scalar_t>(),
                                out.data_ptr<scalar_t>(), block.node_ids().data_ptr<int64_t>(), key, p);
  });
  return out;
}

struct KeyedEdgeDropoutFunction : torch::autograd::Function<KeyedEdgeDropoutFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& w, const Block* block, int64_t loops, double p,
                            int64_t key) {
    save_block(ctx, block, loops);
    ctx->saved_data["p"] = p;
    ctx->saved_data["key"] = key;
    return dropout_edges(*block, static_cast<Loops>(loops), w, p, static_cast<uint64_t>(key));
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {dropout_edges(saved_block(ctx), saved_loops(ctx), grads[0].contiguous(), ctx->saved_data["p"].toDouble(),
                          static_cast<uint64_t>(ctx->saved_data["key"].toInt())),
            {},
            {},
            {},
            {}};
  }
};

at::Tensor dropout_sparse_rows(const at::Tensor& x, const at::Tensor& ids, double p, uint64_t key) {
  at::Tensor values = at::empty_like(x.values());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "keyed_dropout", [&] {
    kernels::keyed_dropout_sparse(sparse_rows_view<scalar_t>(x), values.data_ptr<scalar_t>(), ids.data_ptr<int64_t>(),
                                  key, p);
  });
  return with_values(x, values);
}

// ---- projection of sparse rows ------------------------------------------------------------

// The sparse rows travel as their three dense parts: autograd only ever sees dense tensors.
struct SparseProjectFunction : torch::autograd::Function<SparseProjectFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& weight, const at::Tensor& offsets,
                            const at::Tensor& columns, const at::Tensor& values) {
    ctx->save_for_backward({offsets, columns, values});
    ctx->saved_data["cols"] = weight.size(0);
    at::Tensor y = at::empty({offsets.numel() - 1, weight.size(1)}, weight.options());
    AT_DISPATCH_FLOATING_TYPES(weight.scalar_type(), "project", [&] {
      kernels::sparse_project(view<scalar_t>(offsets, columns, values, weight.size(0)), weight.size(1),
                              weight.data_ptr<scalar_t>(), y.data_ptr<scalar_t>());
    });
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor dy = grads[0].contiguous();
    const int64_t cols = ctx->saved_data["cols"].toInt();
    at::Tensor dw = at::empty({cols, dy.size(1)}, dy.options());
    AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "project_backward", [&] {
      kernels::sparse_project_weight_grad(view<scalar_t>(saved[0], saved[1], saved[2], cols), dy.size(1),
                                          dy.data_ptr<scalar_t>(), dw.data_ptr<scalar_t>());
    });
    return {dw, {}, {}, {}};
  }
  template <class T>
  static kernels::SparseRowsView<T> view(const at::Tensor& offsets, const at::Tensor& columns, const at::Tensor& values,
                                         int64_t cols) {
    return {offsets.numel() - 1, cols, offsets.data_ptr<int64_t>(), columns.data_ptr<int64_t>(), values.data_ptr<T>()};
  }
};

void check_constant_sparse_rows(const char* op, const at::Tensor& x) {
  if (!x.is_cpu()) {
    throw Error(fmt::format("{}: sparse rows x are on {}; sparse rows are a CPU format (keep features dense elsewhere)",
                            op, x.device().str()));
  }
  if (x.requires_grad()) {
    throw Error(fmt::format("{}: sparse rows x are a constant input (the features) and cannot take gradients", op));
  }
}

int64_t nnz(const Block& block, Loops loops) { return adjacency(block, loops).nnz(); }

}  // namespace

TorchOpsOnCpu::TorchOpsOnCpu() { ++torch_ops_on_cpu; }
TorchOpsOnCpu::~TorchOpsOnCpu() { --torch_ops_on_cpu; }

const Csr& adjacency(const Block& block, Loops loops) {
  const Csr& a = loops == Loops::with ? block.with_self_loops() : block.adjacency();
  // Entries are numbered in CSR order; a transpose's edge_ids must name exactly those entries.
  if (!a.edge_ids.empty()) throw Error("graph ops: the Block's adjacency carries edge_ids; expected none");
  return a;
}

// ---- the public ops: check, make contiguous, apply ----------------------------------------

at::Tensor aggregate(const Block& block, Loops loops, const at::Tensor& x, const AggregateOptions& options) {
  constexpr const char* op = "aggregate";
  check_tensor(op, "x", x, {block.num_cols(), -1}, block.device());
  // The scales are constants (degrees): converted to x's dtype, never differentiated.
  at::Tensor r, c;
  if (options.row_scale.defined()) {
    check_tensor(op, "row_scale", options.row_scale, {block.num_rows()}, block.device());
    r = options.row_scale.detach().to(x.scalar_type()).contiguous();
  }
  if (options.col_scale.defined()) {
    check_tensor(op, "col_scale", options.col_scale, {block.num_cols()}, block.device());
    c = options.col_scale.detach().to(x.scalar_type()).contiguous();
  }
  at::Tensor bias;
  if (options.bias.defined()) {
    check_tensor(op, "bias", options.bias, {x.size(1)}, x.device());
    check_same_dtype(op, "bias", options.bias, x);
    bias = options.bias.contiguous();
  }
  return AggregateFunction::apply(x.contiguous(), Optional(bias), Optional(r), Optional(c), &block,
                                  static_cast<int64_t>(loops), options.relu);
}

at::Tensor weighted_aggregate(const Block& block, Loops loops, const at::Tensor& w, const at::Tensor& x) {
  constexpr const char* op = "weighted_aggregate";
  check_tensor(op, "x", x, {block.num_cols(), -1, -1}, block.device());
  check_tensor(op, "w", w, {nnz(block, loops), x.size(1)}, block.device());
  check_same_dtype(op, "w", w, x);
  return WeightedAggregateFunction::apply(w.contiguous(), x.contiguous(), &block, static_cast<int64_t>(loops));
}

at::Tensor edge_add(const Block& block, Loops loops, const at::Tensor& d, const at::Tensor& s_src) {
  constexpr const char* op = "edge_add";
  check_tensor(op, "d", d, {block.num_rows(), -1}, block.device());
  check_tensor(op, "s_src", s_src, {block.num_cols(), d.size(1)}, block.device());
  check_same_dtype(op, "s_src", s_src, d);
  return EdgeAddFunction::apply(d.contiguous(), s_src.contiguous(), &block, static_cast<int64_t>(loops));
}

at::Tensor edge_softmax(const Block& block, Loops loops, const at::Tensor& scores) {
  check_tensor("edge_softmax", "scores", scores, {nnz(block, loops), -1}, block.device());
  return EdgeSoftmaxFunction::apply(scores.contiguous(), &block, static_cast<int64_t>(loops));
}

namespace {

void check_project(const char* op, const at::Tensor& x, const at::Tensor& weight, const at::Tensor& add) {
  check_tensor(op, "weight", weight, {-1, -1}, weight.device());
  check_tensor(op, "x", x, {-1, weight.size(0)}, weight.device());
  check_same_dtype(op, "x", x, weight);
  if (add.defined() && add.dim() == 1) {
    check_tensor(op, "add", add, {weight.size(1)}, weight.device());
  } else if (add.defined()) {
    check_tensor(op, "add", add, {x.size(0), weight.size(1)}, weight.device());
  }
}

void check_dropout(const char* op, const at::Tensor& x, double p, const at::Tensor& ids) {
  check_probability(op, p);
  if (!x.defined() || x.dim() < 1) throw Error(fmt::format("{}: x needs at least one dimension", op));
  check_tensor(op, "x", x, std::vector<int64_t>(x.dim(), -1), x.device());
  if (!ids.defined() || ids.scalar_type() != at::kLong || ids.dim() != 1 || ids.size(0) != x.size(0) ||
      ids.device() != x.device()) {
    throw Error(fmt::format("{}: ids must be int64 of shape [{}] on {} (one per row of x), got {} {}{}", op, x.size(0),
                            x.device().str(), ids.defined() ? c10::toString(ids.scalar_type()) : "undefined",
                            ids.defined() ? shape_text(ids.sizes()) : "[]",
                            ids.defined() ? " on " + ids.device().str() : ""));
  }
}

}  // namespace

at::Tensor project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& add) {
  check_project("project", x, weight, add);
  if (!is_sparse_rows(x)) return input_project(x, {}, {{weight, add}})[0];
  check_constant_sparse_rows("project", x);
  const at::Tensor y = SparseProjectFunction::apply(weight.contiguous(), x.crow_indices(), x.col_indices(), x.values());
  return add.defined() ? y.add_(add) : y;
}

at::Tensor apply_input_ops(const at::Tensor& x, const InputOps& ops) {
  const KeyedDropout& d = ops.dropout;
  if (ops.relu && is_sparse_rows(x)) {
    throw Error("apply_input_ops: ReLU of sparse rows (the input features) is not supported");
  }
  // No ids to check when nothing is drawn (an evaluation, or a layer's own unfused call).
  if (!d.training || d.p == 0) return ops.relu ? at::relu(x) : x;
  if (!ops.relu) return keyed_dropout(x, d.p, d.key, d.ids, true);
  check_dropout("apply_input_ops", x, d.p, d.ids);
  return KeyedDropoutFunction::apply(x.contiguous(), d.ids.contiguous(), d.p, static_cast<int64_t>(d.key), true);
}

std::vector<at::Tensor> input_project(const at::Tensor& x, const InputOps& ops,
                                      const std::vector<Projection>& projections) {
  constexpr const char* op = "input_project";
  if (projections.empty()) throw Error(fmt::format("{}: no projection given", op));
  const KeyedDropout& d = ops.dropout;
  const double p = d.training ? d.p : 0;
  std::vector<int64_t> rows;
  std::vector<at::Tensor> weights;
  for (const Projection& pr : projections) {
    const int64_t n = pr.rows < 0 ? x.size(0) : pr.rows;
    if (n > x.size(0)) {
      throw Error(fmt::format("{}: a projection over {} rows of an x with {} rows", op, n, x.size(0)));
    }
    check_project(op, leading_rows(x, n), pr.weight, pr.add);
    rows.push_back(n);
    weights.push_back(pr.weight);
  }
  if (p > 0) check_dropout(op, x, p, d.ids);
  std::vector<at::Tensor> ys;
  if (is_sparse_rows(x)) {
    const at::Tensor t = apply_input_ops(x, ops);
    for (size_t k = 0; k < projections.size(); ++k) {
      ys.push_back(project(leading_rows(t, rows[k]), weights[k], projections[k].add));
    }
    return ys;
  }
  const Optional ids = p > 0 ? Optional(d.ids.contiguous()) : c10::nullopt;
  // A TensorList, not the vector: only then does autograd see the weights as inputs.
  ys = InputProjectFunction::apply(x.contiguous(), ids, ops.relu, p, static_cast<int64_t>(d.key), rows,
                                   at::TensorList(weights));
  for (size_t k = 0; k < projections.size(); ++k) {
    if (projections[k].add.defined()) ys[k] = ys[k].add_(projections[k].add);
  }
  return ys;
}

at::Tensor leading_rows(const at::Tensor& x, int64_t n) {
  if (!is_sparse_rows(x)) return x.narrow(0, 0, n);
  return leading_sparse_rows(x, n);
}

at::Tensor keyed_dropout(const at::Tensor& x, double p, uint64_t key, const at::Tensor& ids, bool training) {
  constexpr const char* op = "keyed_dropout";
  check_dropout(op, x, p, ids);
  if (!training || p == 0) return x;
  if (is_sparse_rows(x)) {
    check_constant_sparse_rows(op, x);
    return dropout_sparse_rows(x, ids.contiguous(), p, key);
  }
  return KeyedDropoutFunction::apply(x.contiguous(), ids.contiguous(), p, static_cast<int64_t>(key), false);
}

at::Tensor keyed_edge_dropout(const Block& block, Loops loops, const at::Tensor& w, double p, uint64_t key,
                              bool training) {
  constexpr const char* op = "keyed_edge_dropout";
  check_probability(op, p);
  check_tensor(op, "w", w, {nnz(block, loops), -1}, block.device());
  if (!training || p == 0) return w;
  return KeyedEdgeDropoutFunction::apply(w.contiguous(), &block, static_cast<int64_t>(loops), p,
                                         static_cast<int64_t>(key));
}

}  // namespace halo
