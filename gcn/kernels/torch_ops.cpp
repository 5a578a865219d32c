#include "gcn/kernels/torch_ops.h"

#include <ATen/Functions.h>

#include <limits>
#include <vector>

#include "core/counter_rng.h"
#include "gcn/kernels/keyed_dropout.h"

namespace halo::kernels::torch_ops {
namespace {

// Edge-valued data in entry (CSR) order, and back.
at::Tensor by_entry(const CsrTensors& a, const at::Tensor& t) {
  return a.edge_ids.defined() ? t.index_select(0, a.edge_ids) : t;
}
at::Tensor by_edge(const CsrTensors& a, const at::Tensor& t) {
  return a.edge_ids.defined() ? at::empty_like(t).index_copy_(0, a.edge_ids, t) : t;
}

// Reduces the entries of each row (`initial` for a row without any); segment_reduce itself
// refuses empty data.
at::Tensor per_row_reduce(const CsrTensors& a, const at::Tensor& per_entry, c10::string_view reduce, double initial) {
  if (per_entry.numel() == 0) {
    std::vector<int64_t> sizes = per_entry.sizes().vec();
    sizes[0] = a.offsets.size(0) - 1;
    return at::full(sizes, initial, per_entry.options());
  }
  return at::segment_reduce(per_entry, reduce, {}, {}, a.offsets, 0, false, initial);
}

at::Tensor row_sum(const CsrTensors& a, const at::Tensor& per_entry) { return per_row_reduce(a, per_entry, "sum", 0); }

// v [n] shaped to multiply the rows of t.
at::Tensor per_row(const at::Tensor& v, const at::Tensor& t) {
  std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
  shape[0] = v.size(0);
  return v.view(shape);
}

// ---- counter_rng.h's mix64 on int64 tensors: additions and products wrap as in uint64, and
// right shifts are made logical by masking the sign copies away.

int64_t bits(uint64_t v) { return static_cast<int64_t>(v); }

at::Tensor shift_right(const at::Tensor& x, int s) {
  return x.bitwise_right_shift(s).bitwise_and(bits(~uint64_t{0} >> s));
}

at::Tensor mix64(at::Tensor x) {
  x = x.add(bits(kMixIncrement));
  x = x.bitwise_xor(shift_right(x, 30)).mul(bits(kMixFactor1));
  x = x.bitwise_xor(shift_right(x, 27)).mul(bits(kMixFactor2));
  return x.bitwise_xor(shift_right(x, 31));
}

// stream_key(first, second) for each pair.
at::Tensor stream_keys(const at::Tensor& first, const at::Tensor& second) {
  return mix64(mix64(first).bitwise_xor(second.add(bits(kStreamIncrement))));
}

// Whether CounterRng(key, counter).uniform() >= p, for broadcast key and counter tensors.
at::Tensor kept(const at::Tensor& keys, const at::Tensor& counters, double p) {
  return shift_right(mix64(keys.bitwise_xor(mix64(counters))), 11).ge(bits(keep_threshold(p)));
}

at::Tensor drop(const at::Tensor& x, const at::Tensor& keep, double scale) {
  return at::where(keep, x.mul(scale), at::zeros({}, x.options()));
}

}  // namespace

at::Tensor spmm(const CsrTensors& a, const at::Tensor& x, const at::Tensor& w, const at::Tensor& r, const at::Tensor& c,
                const at::Tensor& bias, bool relu) {
  at::Tensor gathered = x.index_select(0, a.cols);
  if (c.defined()) gathered.mul_(per_row(c.index_select(0, a.cols), gathered));
  if (w.defined()) gathered.mul_(by_entry(a, w).unsqueeze(-1));
  at::Tensor y = row_sum(a, gathered);
  if (r.defined()) y.mul_(per_row(r, y));
  if (bias.defined()) y.add_(bias.view(y.sizes().slice(1)));
  return relu ? y.relu_() : y;
}

at::Tensor sddmm(const CsrTensors& a, const at::Tensor& dy, const at::Tensor& x) {
  return by_edge(a, dy.index_select(0, a.rows).mul_(x.index_select(0, a.cols)).sum(-1));
}

at::Tensor edge_add(const CsrTensors& a, const at::Tensor& d, const at::Tensor& s_src) {
  return by_edge(a, d.index_select(0, a.rows).add_(s_src.index_select(0, a.cols)));
}

at::Tensor edge_row_sum(const CsrTensors& a, const at::Tensor& s) { return row_sum(a, by_entry(a, s)); }

at::Tensor edge_softmax(const CsrTensors& a, const at::Tensor& scores) {
  const at::Tensor s = by_entry(a, scores);
  // Shifting by the row's maximum changes nothing but the range; a fully masked row (-inf) is
  // shifted by 0 and its zero sum gives p = 0.
  const double minus_inf = -std::numeric_limits<double>::infinity();
  at::Tensor max = per_row_reduce(a, s, "max", minus_inf);
  max.masked_fill_(max.eq(minus_inf), 0);
  const at::Tensor e = s.sub(max.index_select(0, a.rows)).exp_();
  const at::Tensor sum = row_sum(a, e).index_select(0, a.rows);
  return by_edge(a, at::where(sum.gt(0), e.div(sum), at::zeros({}, e.options())));
}

at::Tensor edge_softmax_backward(const CsrTensors& a, const at::Tensor& p, const at::Tensor& dp) {
  const at::Tensor pe = by_entry(a, p), dpe = by_entry(a, dp);
  const at::Tensor dot = row_sum(a, pe.mul(dpe)).index_select(0, a.rows);
  return by_edge(a, pe.mul(dpe.sub(dot)));
}

at::Tensor keyed_dropout(const at::Tensor& x, const at::Tensor& ids, uint64_t key, double p) {
  const int64_t rows = x.size(0), width = rows == 0 ? 0 : x.numel() / rows;
  const at::Tensor row_keys = stream_keys(at::full({rows, 1}, bits(key), ids.options()), ids.view({rows, 1}));
  // keyed_dropout.h's 16-bit draws: the hash of column group j / 4, shifted by 16 * (j % 4).
  const at::Tensor columns = at::arange(width, ids.options()).view({1, width});
  const at::Tensor hashes = mix64(row_keys.bitwise_xor(mix64(columns.div(4, "floor"))));
  // An arithmetic shift: the sign copies it brings in lie above the 16 bits kept.
  const at::Tensor draws = hashes.bitwise_right_shift(columns.remainder(4).mul(16)).bitwise_and(0xffff);
  const at::Tensor keep = draws.ge(static_cast<int64_t>(draw16_threshold(p)));
  return drop(x, keep.view(x.sizes()), draw16_scale(p));
}

at::Tensor keyed_edge_dropout(const CsrTensors& a, const at::Tensor& w, const at::Tensor& node_ids, uint64_t key,
                              double p) {
  const int64_t nnz = a.cols.size(0), heads = w.size(1);
  const at::Tensor row_keys =
      stream_keys(at::full({nnz}, bits(key), node_ids.options()), node_ids.index_select(0, a.rows));
  const at::Tensor edge_keys = stream_keys(row_keys, node_ids.index_select(0, a.cols)).view({nnz, 1});
  const at::Tensor keep = kept(edge_keys, at::arange(heads, node_ids.options()).view({1, heads}), p);
  return by_edge(a, drop(by_entry(a, w), keep, 1.0 / (1.0 - p)));
}

}  // namespace halo::kernels::torch_ops
