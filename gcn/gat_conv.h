#pragma once
// GATConv (Velickovic et al. 2018, as PyG's GATConv): per head h, x' = x W_h,
// e_vu = LeakyReLU(a_dst . x'_v + a_src . x'_u) over u in N(v) + {v}, alpha = softmax_u(e_vu),
// y_v = sum_u alpha_vu x'_u; heads concatenated or averaged, then + b.
#include <torch/arg.h>

#include "gcn/graph_layer.h"

namespace halo {

struct GATConvOptions {
  GATConvOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);  // per head
  TORCH_ARG(int64_t, heads) = 1;
  TORCH_ARG(bool, concat) = true;  // else average the heads
  TORCH_ARG(double, negative_slope) = 0.2;
  TORCH_ARG(double, attention_dropout) = 0.0;
  TORCH_ARG(bool, bias) = true;
};

class GATConvImpl : public CloneableGraphLayer<GATConvImpl> {
 public:
  explicit GATConvImpl(const GATConvOptions& options);
  GATConvImpl(int64_t in_features, int64_t out_features) : GATConvImpl(GATConvOptions(in_features, out_features)) {}
  at::Tensor forward(const Block& block, const at::Tensor& x) override;
  int64_t out_features() const override;
  void reset_parameters() override;
  bool takes_sparse_input() const override { return true; }
  void pretty_print(std::ostream& stream) const override;
  GATConvOptions options;
  torch::Tensor weight, att_src, att_dst, bias;
};

TORCH_MODULE(GATConv);

}  // namespace halo
