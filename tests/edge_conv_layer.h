#pragma once
// A layer written only with the general message path (gcn/message_passing.h) and halo::Dropout,
// as a PyG user would write EdgeConv (Wang et al. 2019): y_v = max over u -> v (and v itself) of
// ReLU(theta (x_u - x_v) + phi x_v). The linear maps are taken per node before the gather,
// theta x_u + (phi - theta) x_v, so nothing [nnz, in] is ever made.
#include <torch/arg.h>
#include <torch/nn/modules/linear.h>

#include "gcn/dropout.h"
#include "gcn/graph_layer.h"
#include "gcn/message_passing.h"

namespace halo::test {

struct EdgeConvOptions {
  EdgeConvOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(double, dropout) = 0.0;  // on the layer's input, keyed (halo::Dropout)
};

class EdgeConvImpl : public CloneableGraphLayer<EdgeConvImpl> {
 public:
  explicit EdgeConvImpl(const EdgeConvOptions& o) : options(o) {
    drop = register_module("drop", Dropout(o.dropout()));
    theta = register_module("theta", torch::nn::Linear(torch::nn::LinearOptions(o.in_features(), o.out_features())));
    phi = register_module("phi", torch::nn::Linear(torch::nn::LinearOptions(o.in_features(), o.out_features())));
  }
  at::Tensor forward(const Block& block, const at::Tensor& x) override {
    check_layer_input("EdgeConv", block, x, options.in_features());
    const at::Tensor h = drop(block, x);
    const at::Tensor t = theta(h);
    const at::Tensor d = phi(h.narrow(0, 0, block.num_rows())) - t.narrow(0, 0, block.num_rows());
    const at::Tensor m = at::relu(gather_sources(block, Loops::with, t) + gather_destinations(block, Loops::with, d));
    return reduce_messages(block, Loops::with, m, Reduce::max);
  }
  int64_t out_features() const override { return options.out_features(); }
  void reset_parameters() override {
    theta->reset_parameters();
    phi->reset_parameters();
  }

  EdgeConvOptions options;
  Dropout drop{nullptr};
  torch::nn::Linear theta{nullptr}, phi{nullptr};
};

TORCH_MODULE(EdgeConv);

}  // namespace halo::test
