#pragma once
// What the accelerator estimate needs from a Model: each layer's input width and non-zeros on
// the whole graph, and the measured CPU inference time of the same forward pass.
#include <ATen/core/Tensor.h>

#include <vector>

#include "accel_model/operation_counter.h"
#include "gcn/model.h"
#include "sampling/block.h"

namespace halo {

struct ModelProbe {
  std::vector<LayerShape> layers;
  // The layer inputs were captured by replaying the layers with ReLU between them, which
  // reproduces Model::forward for ReLU models without LayerNorm. Otherwise (GAT's ELU,
  // LayerNorm) the inputs of layers >= 1 are counted dense.
  bool exact = true;
  double inference_seconds =
      0;  // median Model::forward, eval mode, no autograd, sparse input rows where training uses them
  int repeats = 0;
};

// Runs `model` on the whole of `block` with `features` (the model's training state is restored).
ModelProbe probe_model(Model model, const Block& block, const at::Tensor& features);

}  // namespace halo
