#pragma once
// Loader for the plain-text layout of ../shared/datasets (see its README): edges.txt
// (undirected "src dst"), features.txt (sparse "node feature value"), labels.txt (one class
// per line; line i = node i), train/val/test.txt (node ids) and meta.txt ("key value").
#include <string>

#include "datasets/dataset.h"

namespace halo {

// Edges are stored in both directions, without self-loops. A folder that ships only
// features_partial.txt (PubMed) loads it, with the missing rows zero, and says so in a warning.
Dataset load_plain(const std::string& dir);

// Writes `d` in the same layout (for generated graphs and round-trip tests).
void save_plain(const Dataset& d, const std::string& dir);

}  // namespace halo
