#include "gcn/model.h"

#include <ATen/Functions.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include "core/counter_rng.h"
#include "core/error.h"
#include "gcn/dropout.h"
#include "gcn/gat_conv.h"
#include "gcn/gcn_conv.h"
#include "gcn/sage_conv.h"
#include "gcn/sparse_features.h"

namespace halo {

std::vector<GraphLayer> builtin_layers(const ModelOptions& o) {
  if (o.layers() < 1 || o.in_features() < 1 || o.out_features() < 1 || o.hidden() < 1) {
    throw UsageError(fmt::format("model: layers ({}), input features ({}), hidden ({}) and classes ({}) must be >= 1",
                                 o.layers(), o.in_features(), o.hidden(), o.out_features()));
  }
  std::vector<GraphLayer> layers;
  int64_t in = o.in_features();
  for (int64_t l = 0; l < o.layers(); ++l) {
    const bool last = l + 1 == o.layers();
    const int64_t out = last ? o.out_features() : o.hidden();
    if (o.kind() == "gcn") {
      layers.push_back(as_graph_layer(GCNConv(GCNConvOptions(in, out))));
    } else if (o.kind() == "sage") {
      layers.push_back(as_graph_layer(SAGEConv(SAGEConvOptions(in, out))));
    } else if (o.kind() == "gat") {
      // Velickovic et al.: hidden heads concatenated, output heads averaged; attention
      // dropout equal to the feature dropout.
      auto gat = GATConvOptions(in, out)
                     .heads(last ? o.output_heads() : o.heads())
                     .concat(!last)
                     .attention_dropout(o.dropout());
      layers.push_back(as_graph_layer(GATConv(gat)));
    } else {
      throw UsageError(fmt::format("model: unknown kind '{}' (expected gcn, sage or gat)", o.kind()));
    }
    in = layers.back()->out_features();
  }
  return layers;
}

ModelImpl::ModelImpl(const ModelOptions& options)
    : ModelImpl(builtin_layers(options), options.kind() == "gat" ? Activation::elu : Activation::relu,
                options.dropout(), options.layer_norm()) {}

ModelImpl::ModelImpl(std::vector<GraphLayer> layers, Activation activation, double dropout, bool layer_norm)
    : activation_(activation), dropout_(dropout), layer_norm_(layer_norm) {
  if (layers.empty()) throw UsageError("model: needs at least one layer");
  if (dropout < 0 || dropout >= 1) throw UsageError(fmt::format("model: dropout must be in [0, 1), got {}", dropout));
  layers_ = register_module("layers", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  for (size_t l = 0; l < layers.size(); ++l) {
    const bool hidden = l + 1 < layers.size();
    check_keyed_randomness(fmt::format("model: layer {} ({})", l, layers[l]->name()), *layers[l]);
    layers_->push_back(layers[l]);
    if (hidden && layer_norm_) {
      norms_->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({layers[l]->out_features()})));
    }
    // LayerNorm must come between the layer and its activation, so it rules out fusing. A ReLU
    // goes to the next layer where it fuses its input: that keeps only the pre-activation alive
    // until backward, and no activated copy.
    const bool fusable = hidden && activation_ == Activation::relu && !layer_norm_;
    relu_to_next_.push_back(fusable && layers[l + 1]->fuses_input());
    fused_relu_.push_back(fusable && !relu_to_next_.back() && layers[l]->fuse_relu());
  }
}

namespace {
std::vector<GraphLayer> graph_layers(std::initializer_list<ModelLayer> layers) {
  std::vector<GraphLayer> out;
  for (const ModelLayer& l : layers) out.push_back(l.layer);
  return out;
}
}  // namespace

Model::Model(std::initializer_list<ModelLayer> layers, Activation activation, double dropout, bool layer_norm)
    : ModuleHolder(std::make_shared<ModelImpl>(graph_layers(layers), activation, dropout, layer_norm)) {}

at::Tensor ModelImpl::forward(const Block& block, const at::Tensor& x, uint64_t key, const HaloFill& fill, Input input,
                              const HaloPost& post) {
  at::Tensor h = x;
  const int64_t n = num_layers();
  for (int64_t l = 0; l < n; ++l) {
    const bool late = l > 0 && post && layer(l)->overlaps();
    if (l > 0 && fill && !late) h = fill(h, static_cast<int>(l));
    // Masks keyed by global node id: a halo row is dropped exactly as its owner drops it.
    const KeyedDropout dropout{dropout_, stream_key(key, l, 0),
                               block.node_ids().narrow(0, 0, late ? block.num_cols() : h.size(0)), is_training()};
    GraphLayer layer = this->layer(l);
    layer->set_random_key(stream_key(key, l, 1));
    InputOps ops{l > 0 && relu_to_next_[l - 1], dropout};
    // Without a graph to record (evaluation, inference) nothing keeps h for a backward: the
    // deferred ReLU goes in place instead of into a copy of all the Block's columns. h is this
    // forward's own (a layer's output or the fill's), never the caller's x.
    if (ops.relu && !c10::GradMode::is_enabled() && !is_sparse_rows(h) && (is_sparse_rows(x) || !h.is_alias_of(x))) {
      h.relu_();
      ops.relu = false;
    }
    if (late) {
      // A layer that never asked for its halo rows would leave their messages unreceived.
      const LateHalo halo = post(h, static_cast<int>(l));
      h = layer->forward_overlapped(block, h, halo, ops);
      if (!halo.asked()) {
        halo.complete();
        throw Error(fmt::format("model: layer {} ({}) returned from forward_overlapped without calling halo()", l,
                                layer->name()));
      }
    } else if (l == 0 && input == Input::precomputed) {
      h = layer->forward_precomputed(h, dropout);  // the layer applies the dropout (input_project)
    } else if (layer->fuses_input()) {
      h = layer->forward_fused(block, h, ops);
    } else {
      h = layer->forward(block, apply_input_ops(h, ops));
    }
    if (l + 1 < n && !relu_to_next_[l]) {
      if (layer_norm_) {
        // In place: LayerNorm's backward reads its input and statistics, not its output.
        h = norms_->ptr<torch::nn::LayerNormImpl>(l)->forward(h);
        h = activation_ == Activation::relu ? h.relu_() : at::elu_(h);
      } else if (!fused_relu_[l]) {
        // A new tensor: a user's layer may keep its output for its backward.
        h = activation_ == Activation::relu ? at::relu(h) : at::elu(h);
      }
    }
  }
  return h;
}

}  // namespace halo
