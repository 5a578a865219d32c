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

at::Tensor SAGEConvImpl::forward(const Block& block, const at::Tensor& x) { return forward_fused(block, x, {}); }

at::Tensor SAGEConvImpl::forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops) {
  check_layer_input("SAGEConv", block, x, options.in_features());
  AggregateOptions agg = mean(block, x.scalar_type());
  if (is_sparse_rows(x) || project_first(block, Loops::without, options.in_features(), options.out_features())) {
    // Both weights in one pass over x: the neighbours' over every column, the root's over the rows.
    std::vector<Projection> projections{{weight_neighbors}};
    if (weight_root.defined()) projections.push_back({weight_root, {}, block.num_rows()});
    const std::vector<at::Tensor> ys = input_project(x, ops, projections);
    agg.bias = bias;
    const at::Tensor y = aggregate(block, Loops::without, ys[0], agg);
    return weight_root.defined() ? y.add_(ys[1]) : y;
  }
  // The root's product reads x through the ops (input_project), so the transformed copy of every
  // column lives only until the aggregation has read it: nothing but x is kept for backward.
  const at::Tensor root =
      weight_root.defined() ? input_project(x, ops, {{weight_root, bias, block.num_rows()}})[0] : bias;
  return project(aggregate(block, Loops::without, apply_input_ops(x, ops), agg), weight_neighbors, root);
}

// The mean over the inner columns while the halo rows travel, then each part of the halo
// columns' share.
at::Tensor SAGEConvImpl::forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                            const InputOps& ops) {
  check_layer_input("SAGEConv", block.inner_part(), inner, options.in_features());
  const InputOps inner_ops = split_input_ops(block, ops).first;
  AggregateOptions agg = mean(block, inner.scalar_type());
  if (project_first(block, Loops::without, options.in_features(), options.out_features())) {
    std::vector<Projection> projections{{weight_neighbors}};
    if (weight_root.defined()) projections.push_back({weight_root});
    const std::vector<at::Tensor> ys = input_project(inner, inner_ops, projections);
    const AggregateOptions halo_agg = agg;
    agg.bias = bias;
    const at::Tensor y = aggregate(block.inner_part(), Loops::without, ys[0], agg);
    if (weight_root.defined()) y.add_(ys[1]);
    halo.for_each_part(block, [&](const Block& part, const at::Tensor& rows) {
      y.add_(aggregate(part, Loops::without, input_project(rows, part_input_ops(part, ops), {{weight_neighbors}})[0],
                       halo_agg));
    });
    return y;
  }
  // Aggregating first: the root's product and the inner columns' sum while the rows travel.
  const at::Tensor root = weight_root.defined() ? input_project(inner, inner_ops, {{weight_root, bias}})[0] : bias;
  const at::Tensor a = aggregate(block.inner_part(), Loops::without, apply_input_ops(inner, inner_ops), agg);
  halo.for_each_part(block, [&](const Block& part, const at::Tensor& rows) {
    a.add_(aggregate(part, Loops::without, apply_input_ops(rows, part_input_ops(part, ops)), agg));
  });
  return project(a, weight_neighbors, root);
}

at::Tensor SAGEConvImpl::precompute(const Block& block, const at::Tensor& x) {
  check_layer_input("SAGEConv", block, x, options.in_features());
  torch::NoGradGuard no_grad;
  const at::Tensor dense = dense_rows(x);
  const at::Tensor m = aggregate(block, Loops::without, dense, mean(block, x.scalar_type()));
  return weight_root.defined() ? at::cat({dense.narrow(0, 0, block.num_rows()), m}, 1) : m;
}

at::Tensor SAGEConvImpl::forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout) {
  const at::Tensor weight = weight_root.defined() ? at::cat({weight_root, weight_neighbors}) : weight_neighbors;
  return input_project(p, {false, dropout}, {{weight, bias}})[0];
}

void SAGEConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::SAGEConv(" << options.in_features() << ", " << options.out_features() << ", aggr=mean)";
}

}  // namespace halo
