#include "datasets/dataset_source.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "datasets/binary_cache.h"
#include "datasets/ogb_loader.h"
#include "datasets/plain_loader.h"
#include "datasets/presets.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

Dataset load_path(const std::string& path) {
  if (fs::is_directory(path)) {
    if (is_ogb_dir(path)) return load_ogb(path);
    if (fs::exists(fs::path(path) / "edges.txt")) return load_plain(path);
    throw Error(
        fmt::format("{}: folder is neither the plain layout (edges.txt, labels.txt, ...) nor an OGB "
                    "dataset (raw/edge.csv.gz)",
                    path));
  }
  if (is_binary_dataset(path)) return load_binary(path);
  throw Error(fmt::format("{}: not a Halo dataset file (no HALODSET magic)", path));
}

}  // namespace

Dataset load_dataset(const std::string& spec) {
  if (fs::exists(spec)) return load_path(spec);
  if (is_preset(spec)) return generate_preset(spec);
  const char* data = std::getenv("HALO_DATA");
  if (data != nullptr && fs::exists(fs::path(data) / spec)) return load_path((fs::path(data) / spec).string());
  std::string presets;
  for (const std::string& p : preset_names()) presets += (presets.empty() ? "" : ", ") + p;
  throw UsageError(
      fmt::format("unknown dataset '{}': not a file or folder, not a preset ({}), and not a folder "
                  "under $HALO_DATA ({})",
                  spec, presets, data != nullptr ? data : "unset"));
}

void save_dataset(const Dataset& d, const std::string& path, DatasetFormat format) {
  if (format == DatasetFormat::plain) {
    save_plain(d, path);
  } else {
    save_binary(d, path);
  }
}

}  // namespace halo
