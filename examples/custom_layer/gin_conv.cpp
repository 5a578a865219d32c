#include "gin_conv.h"

#include <ATen/Functions.h>
#include <torch/nn/init.h>

#include <halo/gcn/graph_ops.h>

namespace example {

GINConvImpl::GINConvImpl(const GINConvOptions& o) : options(o) {
  // No BatchNorm in the MLP (the paper has one): batch statistics would differ between the parts
  // of a distributed run, so K ranks would no longer compute what one process does.
  lin1 = register_module("lin1", torch::nn::Linear(o.in_features(), o.hidden()));
  lin2 = register_module("lin2", torch::nn::Linear(o.hidden(), o.out_features()));
  eps = o.train_eps() ? register_parameter("eps", torch::empty({1})) : register_buffer("eps", torch::empty({1}));
  reset_parameters();
}

void GINConvImpl::reset_parameters() {
  lin1->reset_parameters();
  lin2->reset_parameters();
  torch::NoGradGuard no_grad;
  eps.fill_(options.eps());
}

at::Tensor GINConvImpl::forward(const halo::Block& block, const at::Tensor& x) {
  halo::check_layer_input("GINConv", block, x, options.in_features());
  // Row v of x is column v of the Block: the node's own features are the first num_rows rows.
  const int64_t rows = block.num_rows();
  at::Tensor h;
  if (options.hidden() < options.in_features()) {
    // The first Linear commutes with the sum, so aggregate after it, at the narrower width:
    // W((1 + eps) x_v + sum x_u) + b = (1 + eps) W x_v + sum W x_u + b.
    const at::Tensor z = x.matmul(lin1->weight.t());
    halo::AggregateOptions agg;
    agg.bias = lin1->bias;
    h = halo::aggregate(block, halo::Loops::without, z, agg) + (1 + eps) * z.narrow(0, 0, rows);
  } else {
    const at::Tensor a = halo::aggregate(block, halo::Loops::without, x) + (1 + eps) * x.narrow(0, 0, rows);
    h = lin1(a);
  }
  return lin2(h.relu());
}

void GINConvImpl::pretty_print(std::ostream& stream) const {
  stream << "example::GINConv(" << options.in_features() << ", " << options.out_features()
         << ", hidden=" << options.hidden() << ", eps=" << options.eps()
         << ", train_eps=" << (options.train_eps() ? "true" : "false") << ")";
}

}  // namespace example
