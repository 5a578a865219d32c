#pragma once
// One way to name a dataset everywhere (CLI, tests, benchmarks): a preset spec
// ("reddit-sim:degree=20"), a path (plain-text folder, OGB folder or binary cache file), or
// the name of a folder under $HALO_DATA ("cora").
#include <string>

#include "datasets/dataset.h"

namespace halo {

Dataset load_dataset(const std::string& spec);

enum class DatasetFormat { binary, plain };
// Writes `d` as a binary cache file or a plain-text folder.
void save_dataset(const Dataset& d, const std::string& path, DatasetFormat format);

}  // namespace halo
