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

// Refuses (UsageError) a `dir` save_plain must not write into: a non-empty folder that holds no
// plain dataset (meta.txt), or one that does without `overwrite`. `what` names the path ("-o").
void check_plain_output(const std::string& dir, bool overwrite, const std::string& what = "output folder");

// Writes `d` in the same layout (for generated graphs and round-trip tests), each file atomically
// and meta.txt last, into `dir` as check_plain_output allows; a dataset there (`overwrite`) loses
// only the files of this layout, and other files stay. A failed write removes what it wrote.
void save_plain(const Dataset& d, const std::string& dir, bool overwrite = false);

}  // namespace halo
