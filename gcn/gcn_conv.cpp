#include "gcn/gcn_conv.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include "core/error.h"
#include "gcn/sparse_features.h"

namespace halo {

GCNConvImpl::GCNConvImpl(const GCNConvOptions& o) : options(o) {
  weight = register_parameter("weight", torch::empty({o.in_features(), o.out_features()}));
  if (o.bias()) bias = register_parameter("bias", torch::empty({o.out_features()}));
  reset_parameters();
}

void GCNConvImpl::reset_parameters() {
  torch::nn::init::xavier_uniform_(weight);
  if (bias.defined()) torch::nn::init::zeros_(bias);
}

namespace {
// D^-1/2 (A + I) D^-1/2 with D = full-graph in-degree + 1 (the self-loop).
AggregateOptions normalisation(const Block& block, at::ScalarType dtype) {
  const at::Tensor norm = (block.in_degree() + 1).rsqrt().to(dtype);
  AggregateOptions agg;
  agg.row_scale = norm.narrow(0, 0, block.num_rows());
  agg.col_scale = norm;
  return agg;
}
}  // namespace

at::Tensor GCNConvImpl::forward(const Block& block, const at::Tensor& x) { return forward_fused(block, x, {}); }

at::Tensor GCNConvImpl::forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops) {
  check_layer_input("GCNConv", block, x, options.in_features());
  AggregateOptions agg = normalisation(block, x.scalar_type());
  // Aggregate at the narrower width where that is less work (always for sparse rows, which
  // aggregate to dense ones).
  if (is_sparse_rows(x) || project_first(block, Loops::with, options.in_features(), options.out_features())) {
    agg.bias = bias;
    agg.relu = relu_;
    return aggregate(block, Loops::with, input_project(x, ops, {{weight}})[0], agg);
  }
  return forward_precomputed(aggregate(block, Loops::with, apply_input_ops(x, ops), agg), {});
}

// The sum over the inner columns (with the self-loops) while the halo rows travel, then over the
// halo columns; the bias before, the ReLU after the sum.
at::Tensor GCNConvImpl::forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                           const InputOps& ops) {
  check_layer_input("GCNConv", block.inner_part(), inner, options.in_features());
  const int64_t n = block.num_rows();
  const auto [inner_ops, halo_ops] = split_input_ops(block, ops);
  const AggregateOptions agg = normalisation(block, inner.scalar_type());
  AggregateOptions inner_agg = agg, halo_agg = agg;
  inner_agg.col_scale = agg.col_scale.narrow(0, 0, n);
  halo_agg.col_scale = agg.col_scale.narrow(0, n, block.num_cols() - n);
  at::Tensor y;
  if (project_first(block, Loops::with, options.in_features(), options.out_features())) {
    inner_agg.bias = bias;
    y = aggregate(block.inner_part(), Loops::with, input_project(inner, inner_ops, {{weight}})[0], inner_agg);
    y.add_(aggregate(block.halo_part(), Loops::without, input_project(halo(), halo_ops, {{weight}})[0], halo_agg));
    return relu_ ? y.relu_() : y;
  }
  y = aggregate(block.inner_part(), Loops::with, apply_input_ops(inner, inner_ops), inner_agg);
  y.add_(aggregate(block.halo_part(), Loops::without, apply_input_ops(halo(), halo_ops), halo_agg));
  return forward_precomputed(y, {});
}

at::Tensor GCNConvImpl::precompute(const Block& block, const at::Tensor& x) {
  check_layer_input("GCNConv", block, x, options.in_features());
  torch::NoGradGuard no_grad;
  return aggregate(block, Loops::with, dense_rows(x), normalisation(block, x.scalar_type()));
}

at::Tensor GCNConvImpl::forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout) {
  const at::Tensor y = input_project(p, {false, dropout}, {{weight, bias}})[0];
  return relu_ ? y.relu_() : y;
}

void GCNConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::GCNConv(" << options.in_features() << ", " << options.out_features()
         << ", bias=" << (options.bias() ? "true" : "false") << ")";
}

}  // namespace halo
