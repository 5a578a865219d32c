#pragma once
// SAGEConv with mean aggregation (Hamilton et al. 2017, as PyG's SAGEConv):
// y_v = W_n mean_{u -> v} x_u + W_r x_v + b, the mean over v's full-graph in-degree.
#include <torch/arg.h>

#include "gcn/graph_layer.h"

namespace halo {

struct SAGEConvOptions {
  SAGEConvOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
  // Keep the root term W_r x_v.
  TORCH_ARG(bool, root_weight) = true;
};

class SAGEConvImpl : public CloneableGraphLayer<SAGEConvImpl> {
 public:
  explicit SAGEConvImpl(const SAGEConvOptions& options);
  SAGEConvImpl(int64_t in_features, int64_t out_features) : SAGEConvImpl(SAGEConvOptions(in_features, out_features)) {}
  at::Tensor forward(const Block& block, const at::Tensor& x) override;
  int64_t out_features() const override { return options.out_features(); }
  void reset_parameters() override;
  bool takes_sparse_input() const override { return true; }
  bool fuses_input() const override { return true; }
  at::Tensor forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops) override;
  bool overlaps() const override { return true; }
  at::Tensor forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                const InputOps& ops) override;
  // P = [x_v | mean_{u -> v} x_u] (BNS-GCN's precomputed GraphSAGE input; [mean] without the
  // root weight); forward_precomputed is P [W_r; W_n] + b.
  bool precomputes() const override { return true; }
  at::Tensor precompute(const Block& block, const at::Tensor& x) override;
  at::Tensor forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout) override;
  void pretty_print(std::ostream& stream) const override;

  SAGEConvOptions options;
  torch::Tensor weight_neighbors, weight_root, bias;
};

TORCH_MODULE(SAGEConv);

}  // namespace halo
