#pragma once
// R-MAT graph (Chakrabarti, Zhan, Faloutsos 2004): a skewed, power-law-like graph for scale
// tests. Labels are uniform random classes (the edges carry no class signal); the features are
// class-correlated like those of every generated dataset.
#include <torch/arg.h>

#include <cstdint>
#include <string>

#include "datasets/dataset.h"

namespace halo {

struct RmatOptions {
  TORCH_ARG(int64_t, num_nodes) = int64_t{1} << 20;  // any count, not only powers of two
  TORCH_ARG(int64_t, num_classes) = 16;
  TORCH_ARG(int64_t, num_features) = 64;
  // In-edges per node of the symmetric result (within ~2 %: duplicate draws are topped up).
  TORCH_ARG(double, average_degree) = 16;
  // Quadrant probabilities [a b; c d] with d = 1 - a - b - c (Graph500 defaults).
  TORCH_ARG(double, a) = 0.57;
  TORCH_ARG(double, b) = 0.19;
  TORCH_ARG(double, c) = 0.19;
  // Distance between class centroids in noise standard deviations.
  TORCH_ARG(double, feature_snr) = 1.0;
  TORCH_ARG(double, train_fraction) = 0.6;
  TORCH_ARG(double, val_fraction) = 0.2;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(std::string, name) = "rmat";
};

// Throws UsageError naming the first field outside its allowed range.
void check_options(const RmatOptions& options);

// A symmetric graph without self-loops or duplicate edges, node ids scrambled by a seeded
// permutation; same options (seed included) give the same Dataset on any number of threads.
Dataset generate_rmat(const RmatOptions& options);

}  // namespace halo
