#pragma once
#include <torch/optim/adam.h>

#include <memory>

#include "gcn/model.h"

namespace halo {

// Adam over the model's parameters with weight decay `decay` on all of them, or on the first
// layer's only (Kipf & Welling's GCN; the GAT paper decays all).
std::unique_ptr<torch::optim::Adam> adam(const ModelImpl& model, double lr, double decay, bool first_layer_only);

}  // namespace halo
