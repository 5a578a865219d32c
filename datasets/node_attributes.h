#pragma once
// Node attributes of the synthetic generators: uniform class labels, class-correlated features
// and random train/val/test masks, from counter-based streams (a dataset depends on its seed
// only, never on the thread count).
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <string>

#include "core/counter_rng.h"
#include "datasets/dataset.h"

namespace halo {

struct NodeAttributeOptions {
  TORCH_ARG(int64_t, num_features) = 32;
  // Distance between two class centroids, in noise standard deviations.
  TORCH_ARG(double, feature_snr) = 1.0;
  // Each node is train with this probability, else val, else test.
  TORCH_ARG(double, train_fraction) = 0.6;
  TORCH_ARG(double, val_fraction) = 0.2;
  TORCH_ARG(uint64_t, seed) = 0;
};

constexpr int64_t kMaxFeatures = 1 << 20;

// Checks every field of `options` (num_features, feature_snr, the fractions).
void check_options(const NodeAttributeOptions& options, const std::string& where);

// [n] int64 labels, each uniform in [0, num_classes), keyed by (seed, node).
at::Tensor uniform_labels(int64_t n, int64_t num_classes, uint64_t seed);

// [N, F] float32 features x_v = mu_{y_v} + N(0, I), with random class centroids mu_c
// (see the .cpp for their scale). Unlabelled nodes (y = -1) get pure noise.
at::Tensor class_features(const at::Tensor& labels, int64_t num_classes, const NodeAttributeOptions& options);

struct SplitMasks {
  at::Tensor train, val, test;  // [n] bool, disjoint, covering every node
};
// Each node independently train / val / test with the requested fractions, keyed by (seed, node).
SplitMasks random_split(int64_t n, const NodeAttributeOptions& options);

// Fills d.features and the masks from d.labels and d.num_classes.
void add_node_attributes(Dataset& d, const NodeAttributeOptions& options);

// The attribute fields of a generator's options. Their seed is derived from the generator's, so
// attribute streams never coincide with the generator's own stream_key(seed, ...) streams.
template <class GeneratorOptions>
NodeAttributeOptions attribute_options(const GeneratorOptions& o) {
  return NodeAttributeOptions()
      .num_features(o.num_features())
      .feature_snr(o.feature_snr())
      .train_fraction(o.train_fraction())
      .val_fraction(o.val_fraction())
      .seed(stream_key(o.seed(), 0x6174747269627574ULL));
}

// The generators' common tail: `graph` with `labels`, class features and split masks; check()ed.
Dataset make_dataset(std::string name, Graph graph, at::Tensor labels, int64_t num_classes,
                     const NodeAttributeOptions& options);

}  // namespace halo
