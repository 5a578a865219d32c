#pragma once
// Loader for Open Graph Benchmark node-property datasets (ogbn-*) in the raw layout the `ogb`
// package leaves on disk, read with zlib (no Python):
//   raw/edge.csv.gz          "src,dst" per line, no header (directed edges)
//   raw/num-node-list.csv.gz one line: N
//   raw/num-edge-list.csv.gz one line: the edge count (optional; checked when present)
//   raw/node-feat.csv.gz     N lines of F comma-separated floats
//   raw/node-label.csv.gz    N lines, one integer class ("nan" or empty: unlabelled)
//   split/<name>/{train,valid,test}.csv.gz  one node id per line
#include <torch/arg.h>

#include <string>

#include "datasets/dataset.h"

namespace halo {

struct OgbOptions {
  // Folder under split/ to use; "" picks the only one present.
  TORCH_ARG(std::string, split) = "";
  // Store every edge in both directions (as OGB's GNN baselines do with to_undirected).
  TORCH_ARG(bool, symmetrize) = true;
};

// Self-loops are removed; num_classes is the largest label + 1; the name is the folder's.
Dataset load_ogb(const std::string& dir, const OgbOptions& options = {});

// True if `dir` holds raw/edge.csv.gz.
bool is_ogb_dir(const std::string& dir);

}  // namespace halo
