#include "gcn/gcn_conv.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/nn/init.h>

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

at::Tensor GCNConvImpl::forward(const Block& block, const at::Tensor& x) {
  check_layer_input("GCNConv", block, x, options.in_features());
  // D^-1/2 (A + I) D^-1/2 with D = full-graph in-degree + 1 (the self-loop).
  const at::Tensor norm = (block.in_degree() + 1).rsqrt().to(x.scalar_type());
  AggregateOptions agg;
  agg.row_scale = norm.narrow(0, 0, block.num_rows());
  agg.col_scale = norm;
  // Aggregate at the narrower width: transform first when the layer shrinks the features (and
  // always for sparse rows, which aggregate to dense ones).
  if (options.out_features() < options.in_features() || is_sparse_rows(x)) {
    agg.bias = bias;
    agg.relu = relu_;
    return aggregate(block, Loops::with, project(x, weight), agg);
  }
  const at::Tensor a = aggregate(block, Loops::with, x, agg);
  at::Tensor y = bias.defined() ? at::addmm(bias, a, weight) : a.matmul(weight);
  return relu_ ? y.relu_() : y;
}

void GCNConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::GCNConv(" << options.in_features() << ", " << options.out_features()
         << ", bias=" << (options.bias() ? "true" : "false") << ")";
}

}  // namespace halo
