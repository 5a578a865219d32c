#include "gcn/dropout.h"

#include <fmt/format.h>
#include <torch/nn/modules/dropout.h>

#include "core/error.h"
#include "gcn/graph_ops.h"

namespace halo {

DropoutImpl::DropoutImpl(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) throw Error(fmt::format("halo::Dropout: p must be in [0, 1), got {}", p));
}

at::Tensor DropoutImpl::forward(const Block& block, const at::Tensor& x) {
  if (!x.defined() || x.dim() < 1 || (x.size(0) != block.num_rows() && x.size(0) != block.num_cols())) {
    throw Error(fmt::format("halo::Dropout: x must have one row per Block row ({}) or column ({}), got {}",
                            block.num_rows(), block.num_cols(),
                            x.defined() && x.dim() >= 1 ? std::to_string(x.size(0)) + " rows" : "no rows"));
  }
  return keyed_dropout(x, p_, key_, block.node_ids().narrow(0, 0, x.size(0)), is_training());
}

void DropoutImpl::pretty_print(std::ostream& stream) const { stream << "halo::Dropout(p=" << p_ << ")"; }

namespace {
template <class... Unkeyed>
bool is_unkeyed(const torch::nn::Module& m) {
  return (... || (dynamic_cast<const Unkeyed*>(&m) != nullptr));
}
}  // namespace

void check_keyed_randomness(const std::string& layer, const torch::nn::Module& module) {
  for (const auto& item : module.named_modules()) {
    const torch::nn::Module& m = *item.value();
    if (is_unkeyed<torch::nn::DropoutImpl, torch::nn::Dropout2dImpl, torch::nn::Dropout3dImpl,
                   torch::nn::AlphaDropoutImpl, torch::nn::FeatureAlphaDropoutImpl>(m)) {
      throw Error(fmt::format(
          "{}: submodule '{}' is a {}, whose mask depends on each rank's generator and row order, so K ranks "
          "would train a different model than one process; use halo::Dropout (gcn/dropout.h), keyed by node id",
          layer, item.key().empty() ? "(the layer itself)" : item.key(), m.name()));
    }
  }
}

}  // namespace halo
