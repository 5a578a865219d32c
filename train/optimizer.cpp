#include "train/optimizer.h"

#include <algorithm>
#include <vector>

namespace halo {

std::unique_ptr<torch::optim::Adam> adam(const ModelImpl& model, double lr, double decay, bool first_layer_only) {
  auto options = [&](double d) {
    return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(lr).weight_decay(d));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!first_layer_only) {
    groups.emplace_back(model.parameters(), options(decay));
  } else {
    const std::vector<at::Tensor> first = model.layer(0)->parameters();
    std::vector<at::Tensor> rest;
    for (const at::Tensor& p : model.parameters()) {
      if (std::none_of(first.begin(), first.end(), [&](const at::Tensor& f) { return f.is_same(p); })) {
        rest.push_back(p);
      }
    }
    groups.emplace_back(first, options(decay));
    if (!rest.empty()) groups.emplace_back(rest, options(0.0));
  }
  return std::make_unique<torch::optim::Adam>(groups, torch::optim::AdamOptions(lr));
}

}  // namespace halo
