#pragma once
// Community graph: a degree-corrected planted partition (stochastic block model) whose classes
// are its communities, with class-correlated features, so a GCN has something to learn from
// both the features and the edges.
#include <torch/arg.h>

#include <cstdint>
#include <string>

#include "datasets/dataset.h"

namespace halo {

struct CommunityOptions {
  TORCH_ARG(int64_t, num_nodes) = 1000;
  TORCH_ARG(int64_t, num_classes) = 4;
  TORCH_ARG(int64_t, num_features) = 32;
  // In-edges per node of the symmetric result (within ~2 %: duplicate draws are topped up).
  TORCH_ARG(double, average_degree) = 10;
  // Fraction of edges that join two nodes of the same class.
  TORCH_ARG(double, homophily) = 0.8;
  // 0: every node has the same expected degree; gamma > 1: expected degrees follow a power law
  // P(d) ~ d^-gamma, cut off at sqrt(num_nodes * average_degree).
  TORCH_ARG(double, degree_exponent) = 0;
  // Distance between class centroids in noise standard deviations.
  TORCH_ARG(double, feature_snr) = 1.0;
  TORCH_ARG(double, train_fraction) = 0.6;
  TORCH_ARG(double, val_fraction) = 0.2;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(std::string, name) = "community";
};

// Throws UsageError naming the first field outside its allowed range.
void check_options(const CommunityOptions& options);

// A symmetric graph without self-loops or duplicate edges; every node labelled; same options
// (seed included) give the same Dataset on any number of threads.
Dataset generate_community(const CommunityOptions& options);

}  // namespace halo
