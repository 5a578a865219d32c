#include "gcn/sage_conv.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/nn/init.h>

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

at::Tensor SAGEConvImpl::forward(const Block& block, const at::Tensor& x) {
  check_layer_input("SAGEConv", block, x, options.in_features());
  const int64_t rows = block.num_rows();
  // Mean over the full-graph in-degree (isolated nodes aggregate nothing).
  AggregateOptions agg;
  agg.row_scale = block.in_degree().narrow(0, 0, rows).clamp_min(1).reciprocal().to(x.scalar_type());
  at::Tensor y;
  if (options.out_features() < options.in_features() || is_sparse_rows(x)) {
    agg.bias = bias;
    y = aggregate(block, Loops::without, project(x, weight_neighbors), agg);
  } else {
    const at::Tensor a = aggregate(block, Loops::without, x, agg);
    y = bias.defined() ? at::addmm(bias, a, weight_neighbors) : a.matmul(weight_neighbors);
  }
  return weight_root.defined() ? project(leading_rows(x, rows), weight_root, y) : y;
}

void SAGEConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::SAGEConv(" << options.in_features() << ", " << options.out_features() << ", aggr=mean)";
}

}  // namespace halo
