#pragma once
// Model: a stack of GraphLayers with dropout before every layer and, between layers, optional
// LayerNorm and an activation. Between layers the hidden rows of the Block's inner nodes are
// turned into rows of all its columns [inner | halo] by an exchange (identity in one process).
#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "gcn/graph_layer.h"

namespace halo {

enum class Activation { relu, elu };

struct ModelOptions {
  TORCH_ARG(std::string, kind) = "gcn";  // gcn | sage | gat
  TORCH_ARG(int64_t, in_features) = 0;
  TORCH_ARG(int64_t, hidden) = 16;
  TORCH_ARG(int64_t, out_features) = 0;  // classes
  TORCH_ARG(int64_t, layers) = 2;
  TORCH_ARG(double, dropout) = 0.5;
  TORCH_ARG(bool, layer_norm) = false;
  TORCH_ARG(int64_t, heads) = 8;         // GAT hidden layers (concatenated)
  TORCH_ARG(int64_t, output_heads) = 1;  // GAT output layer (averaged)
};

// Hidden rows of the Block's rows -> rows of all its columns, before layer `layer` (>= 1).
using HaloFill = std::function<at::Tensor(const at::Tensor& rows, int layer)>;
// Or, overlapped (--overlap): posts the exchange of the halo rows before layer `layer` (>= 1) and
// returns at once; the layer waits when it needs them (GraphLayerImpl::forward_overlapped).
using HaloPost = std::function<LateHalo(const at::Tensor& rows, int layer)>;

// What Model::forward's x holds: the input features of the Block's columns, or the first layer's
// precompute of them (GraphLayerImpl::precompute), one row per Block row.
enum class Input { features, precomputed };

class ModelImpl : public torch::nn::Module {
 public:
  // A built-in architecture (GCN, GraphSAGE or GAT, as in their papers' node-classification setups).
  explicit ModelImpl(const ModelOptions& options);
  // Any stack of layers, e.g. user-written ones.
  ModelImpl(std::vector<GraphLayer> layers, Activation activation, double dropout, bool layer_norm = false);

  // x: [block.num_cols(), in_features], dense or, if takes_sparse_input(), sparse rows -> logits
  // [block.num_rows(), classes]; or, with Input::precomputed, precompute_input()'s result.
  // `key` seeds this forward's randomness (dropout), e.g. stream_key(seed, epoch); `fill` may be
  // empty when the Block has no halo; `post`, when given, replaces it for the layers that
  // overlap (GraphLayerImpl::overlaps()). Dropout applies to whichever input x is.
  at::Tensor forward(const Block& block, const at::Tensor& x, uint64_t key, const HaloFill& fill = {},
                     Input input = Input::features, const HaloPost& post = {});

  // Whether the first layer splits off a parameter-free precompute of its input.
  bool precomputes_input() const { return layer(0)->precomputes(); }
  // The first layer's precompute of the input features x ([block.num_rows(), P], no gradients).
  at::Tensor precompute_input(const Block& block, const at::Tensor& x) { return layer(0)->precompute(block, x); }

  // Layer l's output (l < num_layers() - 1) as the next layer takes it, activated and before
  // dropout, from the `h` forward() hands to `fill` for layer l + 1: a ReLU deferred to the next
  // layer's fused input is applied here.
  at::Tensor hidden_output(int64_t l, const at::Tensor& h) const { return relu_to_next_.at(l) ? at::relu(h) : h; }

  int64_t num_layers() const { return static_cast<int64_t>(layers_->size()); }
  GraphLayer layer(int64_t i) const { return GraphLayer(layers_->ptr<GraphLayerImpl>(i)); }
  // Whether x may be sparse rows (sparse_features.h): the first layer takes them.
  bool takes_sparse_input() const { return layer(0)->takes_sparse_input(); }

 private:
  Activation activation_;
  double dropout_;
  bool layer_norm_;
  torch::nn::ModuleList layers_;
  torch::nn::ModuleList norms_;
  std::vector<bool> fused_relu_;    // layer l applies its own ReLU
  std::vector<bool> relu_to_next_;  // layer l + 1 applies layer l's ReLU to its input
};

// Any layer's holder (GCNConv, a user's TORCH_MODULE), taken where a Model's layers are listed.
struct ModelLayer {
  template <class Holder, class = std::enable_if_t<std::is_base_of_v<GraphLayerImpl, typename Holder::ContainedType>>>
  ModelLayer(const Holder& layer) : layer(as_graph_layer(layer)) {}  // NOLINT: implicit on purpose
  GraphLayer layer;
};

class Model : public torch::nn::ModuleHolder<ModelImpl> {
 public:
  using torch::nn::ModuleHolder<ModelImpl>::ModuleHolder;
  using Impl = ModelImpl;
  // A model written as its layers: Model({GCNConv(1433, 16), GCNConv(16, 7)}).
  Model(std::initializer_list<ModelLayer> layers, Activation activation = Activation::relu, double dropout = 0.5,
        bool layer_norm = false);
};

// Builds the built-in architecture's layers for `options` (used by ModelImpl(options)).
std::vector<GraphLayer> builtin_layers(const ModelOptions& options);

}  // namespace halo
