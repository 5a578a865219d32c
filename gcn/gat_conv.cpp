#include "gcn/gat_conv.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/nn/init.h>

#include "core/error.h"

namespace halo {

GATConvImpl::GATConvImpl(const GATConvOptions& o) : options(o) {
  const int64_t h = o.heads(), f = o.out_features();
  weight = register_parameter("weight", torch::empty({o.in_features(), h * f}));
  att_src = register_parameter("att_src", torch::empty({1, h, f}));
  att_dst = register_parameter("att_dst", torch::empty({1, h, f}));
  if (o.bias()) bias = register_parameter("bias", torch::empty({out_features()}));
  reset_parameters();
}

int64_t GATConvImpl::out_features() const {
  return options.concat() ? options.heads() * options.out_features() : options.out_features();
}

void GATConvImpl::reset_parameters() {
  for (torch::Tensor* t : {&weight, &att_src, &att_dst}) torch::nn::init::xavier_uniform_(*t);
  if (bias.defined()) torch::nn::init::zeros_(bias);
}

at::Tensor GATConvImpl::forward(const Block& block, const at::Tensor& x) {
  check_layer_input("GATConv", block, x, options.in_features());
  const int64_t rows = block.num_rows(), h = options.heads(), f = options.out_features();
  const at::Tensor xw = project(x, weight).view({block.num_cols(), h, f});
  // e_vu = LeakyReLU(a_dst . x'_v + a_src . x'_u), softmax over u in N(v) + {v}.
  const at::Tensor score_src = (xw * att_src).sum(-1);
  const at::Tensor score_dst = (xw.narrow(0, 0, rows) * att_dst).sum(-1);
  const at::Tensor logits =
      at::leaky_relu(edge_add(block, Loops::with, score_dst, score_src), options.negative_slope());
  at::Tensor alpha = edge_softmax(block, Loops::with, logits);
  alpha = keyed_edge_dropout(block, Loops::with, alpha, options.attention_dropout(), random_key(), is_training());
  at::Tensor y = weighted_aggregate(block, Loops::with, alpha, xw);
  y = options.concat() ? y.reshape({rows, h * f}) : y.mean(1);
  return bias.defined() ? y + bias : y;
}

void GATConvImpl::pretty_print(std::ostream& stream) const {
  stream << "halo::GATConv(" << options.in_features() << ", " << options.out_features() << ", heads=" << options.heads()
         << ", concat=" << (options.concat() ? "true" : "false") << ")";
}

}  // namespace halo
