#pragma once
// GINConv (Xu et al. 2019, "How Powerful are Graph Neural Networks?"):
//   h_v = MLP((1 + eps) x_v + sum_{u -> v} x_u),  MLP = Linear -> ReLU -> Linear.
// A layer written outside Halo, the way any user writes one: an options struct with TORCH_ARG,
// an Impl deriving from halo::GraphLayerImpl, and TORCH_MODULE for the holder. It only states
// its maths; Halo's Model fills the halo columns of x before calling forward.
#include <torch/arg.h>
#include <torch/nn/modules/linear.h>

#include <halo/gcn/graph_layer.h>

namespace example {

struct GINConvOptions {
  GINConvOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features), hidden_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  // Width of the MLP's hidden layer (default: out_features).
  TORCH_ARG(int64_t, hidden);
  // Weight of the node's own features; the paper's GIN-0 fixes it at 0, GIN-eps learns it.
  TORCH_ARG(double, eps) = 0.0;
  TORCH_ARG(bool, train_eps) = false;
};

class GINConvImpl : public halo::CloneableGraphLayer<GINConvImpl> {
 public:
  explicit GINConvImpl(const GINConvOptions& options);
  // x: [block.num_cols(), in_features] -> [block.num_rows(), out_features].
  at::Tensor forward(const halo::Block& block, const at::Tensor& x) override;
  int64_t out_features() const override { return options.out_features(); }
  void reset_parameters() override;
  void pretty_print(std::ostream& stream) const override;

  GINConvOptions options;
  torch::nn::Linear lin1{nullptr}, lin2{nullptr};
  torch::Tensor eps;  // [1]; a parameter with train_eps, else a buffer
};

TORCH_MODULE(GINConv);

}  // namespace example
