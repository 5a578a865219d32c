#pragma once
// Halo's own binary dataset cache: one archive (core/archive.h, magic "HALODSET") holding a
// Dataset's meta (JSON), CSR offsets (i64) and indices (i32), features (f32 [N, F]), labels
// (i64) and train/val/test masks (u8), so a big graph reloads at disk speed instead of being
// parsed from text again.
#include <cstdint>
#include <string>

#include "datasets/dataset.h"

namespace halo {

// Bump when the sections or the meta fields change meaning; readers reject other versions.
constexpr uint32_t kDatasetFormatVersion = 1;

// Writes `d` to `path` atomically: a temporary file renamed over `path` when complete.
void save_binary(const Dataset& d, const std::string& path);

// Reads a cache written by save_binary. Validates the archive (magic, version, truncation,
// checksums), that every section's shape agrees with the meta, the CSR, and Dataset::check;
// throws Error naming `path` and the first disagreement.
Dataset load_binary(const std::string& path);

// True if `path` is a regular file starting with the dataset magic.
bool is_binary_dataset(const std::string& path);

}  // namespace halo
