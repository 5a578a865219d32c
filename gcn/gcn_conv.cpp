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
at::Tensor degree_scale(const Block& block, at::ScalarType dtype) { return (block.in_degree() + 1).rsqrt().to(dtype); }

AggregateOptions normalisation(const Block& block, at::ScalarType dtype) {
  const at::Tensor norm = degree_scale(block, dtype);
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

// The sum over the inner columns (with the self-loops) while the halo rows travel, then over
// each part of the halo columns; the bias before, the ReLU after the sum.
at::Tensor GCNConvImpl::forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                           const InputOps& ops) {
  check_layer_input("GCNConv", block.inner_part(), inner, options.in_features());
  const at::ScalarType dtype = inner.scalar_type();
  const bool first = project_first(block, Loops::with, options.in_features(), options.out_features());
  // What is aggregated of some rows: their projection, or the rows themselves.
  auto input = [&](const at::Tensor& rows, const InputOps& o) {
    return first ? input_project(rows, o, {{weight}})[0] : apply_input_ops(rows, o);
  };
  AggregateOptions agg = normalisation(block, dtype);
  agg.col_scale = agg.col_scale.narrow(0, 0, block.num_rows());
  if (first) agg.bias = bias;
  const at::Tensor y = aggregate(block.inner_part(), Loops::with, input(inner, split_input_ops(block, ops).first), agg);
  agg.bias = at::Tensor();
  halo.for_each_part(block, [&](const Block& part, const at::Tensor& rows) {
    agg.col_scale = degree_scale(part, dtype);
    y.add_(aggregate(part, Loops::without, input(rows, part_input_ops(part, ops)), agg));
  });
  if (!first) return forward_precomputed(y, {});
  return relu_ ? y.relu_() : y;
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
