#pragma once
// Dropout for a layer's own use (inside its MLP, on an attention input): a module whose mask is
// keyed by the forward's key, the row's global node id and the column (keyed_dropout), so K
// ranks drop exactly what one process drops. torch::nn::Dropout draws from each rank's
// generator in the rank's row order: a layer holding one would train a different model on K
// ranks than on one, so a Model refuses such a layer (check_keyed_randomness).
//
//   struct MyLayerImpl : halo::GraphLayerImpl {
//     halo::Dropout drop = register_module("drop", halo::Dropout(0.5));
//     ... h = drop(block, h); ...
//   };
//
// A layer's Dropouts get their keys from the layer's (GraphLayerImpl::set_random_key, which the
// Model calls before every forward), each its own stream, in registration order.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "sampling/block.h"

namespace halo {

class DropoutImpl : public torch::nn::Module {
 public:
  explicit DropoutImpl(double p = 0.5);
  // x: one row per node, the Block's first x.size(0) columns: [block.num_rows(), ...] or
  // [block.num_cols(), ...]. Identity when not training or p == 0.
  at::Tensor forward(const Block& block, const at::Tensor& x);
  double p() const { return p_; }
  void set_random_key(uint64_t key) { key_ = key; }
  void pretty_print(std::ostream& stream) const override;

 private:
  double p_;
  uint64_t key_ = 0;
};

TORCH_MODULE(Dropout);

// Throws Error naming `layer` and the submodule when `module` holds a dropout module whose mask
// is not keyed (torch::nn::Dropout and its variants).
void check_keyed_randomness(const std::string& layer, const torch::nn::Module& module);

}  // namespace halo
