#pragma once
// GCNConv (Kipf & Welling 2017): y = D^-1/2 (A + I) D^-1/2 x W + b, with D the full-graph
// in-degree + 1, so a part normalises exactly as the whole graph.
#include <torch/arg.h>

#include "gcn/graph_layer.h"

namespace halo {

struct GCNConvOptions {
  GCNConvOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
};

class GCNConvImpl : public CloneableGraphLayer<GCNConvImpl> {
 public:
  explicit GCNConvImpl(const GCNConvOptions& options);
  GCNConvImpl(int64_t in_features, int64_t out_features) : GCNConvImpl(GCNConvOptions(in_features, out_features)) {}
  at::Tensor forward(const Block& block, const at::Tensor& x) override;
  int64_t out_features() const override { return options.out_features(); }
  void reset_parameters() override;
  bool takes_sparse_input() const override { return true; }
  bool fuse_relu() override { return relu_ = true; }
  bool fuses_input() const override { return true; }
  at::Tensor forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops) override;
  bool overlaps() const override { return true; }
  at::Tensor forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                const InputOps& ops) override;
  // P = D^-1/2 (A + I) D^-1/2 x, of width in_features; forward_precomputed is P W + b.
  bool precomputes() const override { return true; }
  at::Tensor precompute(const Block& block, const at::Tensor& x) override;
  at::Tensor forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout) override;
  void pretty_print(std::ostream& stream) const override;

  GCNConvOptions options;
  torch::Tensor weight, bias;

 private:
  bool relu_ = false;
};

TORCH_MODULE(GCNConv);

}  // namespace halo
