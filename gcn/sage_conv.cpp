#include "gcn/sage_conv.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>

#include "core/error.h"
#include "gcn/sparse_features.h"

namespace halo {

SAGEConvImpl::SAGEConvImpl(const SAGEConvOptions& o) : options(o) {
  weight_neighbors = register_parameter("weight_neighbors", torch::empty({o.in_features(), o.out_features()}));
  if (o.root_weight())
    weight_root = register_parameter("weight_root", torch::empty({o.in_features(), o.out_features()}));
  if (o.bias()) bias = register_parameter("bias", torch::empty({o.out_features()}));
  reset_parameters();
}

// LibTorch's Linear initialisation: U(-1/sqrt(in), 1/sqrt(in)) for weights and bias.
void SAGEConvImpl::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
  torch::NoGradGuard no_grad;
  for (torch::Tensor* t : {&weight_neighbors, &weight_root, &bias}) {
    if (t->defined()) t->uniform_(-bound, bound);
  }
}

namespace {
// Mean over the full-graph in-degree (isolated nodes aggregate nothing).
AggregateOptions mean(const Block& block, at::ScalarType dtype) {
  AggregateOptions agg;
  agg.row_scale = block.in_degree().narrow(0, 0, block.num_rows()).clamp_min(1).reciprocal().to(dtype);
  return agg;
}
}  // namespace

at::Tensor SAGEConvImpl::forward(const Block& block, const at::Tensor& x) {
  check_layer_input("SAGEConv", block, x, options.in_features());
  AggregateOptions agg = mean(block, x.scalar_type());
  at::Tensor y;
  if (is_sparse_rows(x) || project_first(block, Loops::without, options.in_features(), options.out_features())) {
    agg.bias = bias;
    y = aggregate(block, Loops::without, project(x, weight_neighbors), agg);
  } else {
    y = project(aggregate(block, Loops::without, x, agg), weight_neighbors, bias);
  }
  return weight_root.defined() ? project(leading_rows(x, block.num_rows()), weight_root, y) : y;
}

at::Tensor SAGEConvImpl::precompute(const Block& block, const at::Tensor& x) {
  check_layer_input("SAGEConv", block, x, options.in_features());
  torch::NoGradGuard no_grad;
  const at::Tensor dense = dense_rows(x);
  const at::Tensor m = aggregate(block, Loops::without, dense, mean(block, x.scalar_type()));
  return weight_root.defined() ? at::cat({dense.narrow(0, 0, block.num_rows()), m}, 1) : m;
}

at::Tensor SAGEConvImpl::forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout) {
  return dropout_project(p, dropout,
                         weight_root.defined() ? at::cat({weight_root, weight_neighbors}) : weight_neighbors, bias);
}

void SAGEConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::SAGEConv(" << options.in_features() << ", " << options.out_features() << ", aggr=mean)";
}

}  // namespace halo
