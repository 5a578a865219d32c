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
