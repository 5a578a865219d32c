#include "datasets/binary_cache.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/archive.h"
#include "core/error.h"

namespace halo {
namespace {

constexpr char kMagic[] = "HALODSET";
constexpr const char* kMasks[] = {"train_mask", "val_mask", "test_mask"};

struct Meta {
  std::string name;
  int64_t num_nodes, num_edges, num_features, num_classes;
};

int64_t meta_count(const nlohmann::json& meta, const char* field, const std::string& path) {
  const auto it = meta.find(field);
  if (it == meta.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    throw Error(fmt::format("{}: meta field '{}' must be a non-negative integer, found {}", path, field,
                            it == meta.end() ? "nothing" : it->dump()));
  }
  return it->get<int64_t>();
}

Meta read_meta(const ArchiveReader& r) {
  const nlohmann::json j = r.json("meta");
  if (!j.is_object()) throw Error(fmt::format("{}: section 'meta' must be a JSON object", r.path()));
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string()) {
    throw Error(fmt::format("{}: meta field 'name' must be a string", r.path()));
  }
  Meta m{name->get<std::string>(), meta_count(j, "num_nodes", r.path()), meta_count(j, "num_edges", r.path()),
         meta_count(j, "num_features", r.path()), meta_count(j, "num_classes", r.path())};
  check_node_count(m.num_nodes, r.path() + ": meta num_nodes");
  return m;
}

// Section `name` must have `expected` rows (axis 0) or columns (axis 1), the size implied by
// meta `field` = `value`. Checked on the table alone, before any data is read.
void expect_extent(const ArchiveReader& r, const std::string& name, int axis, int64_t expected, const char* field,
                   int64_t value) {
  const auto [rows, cols] = r.shape(name);
  const int64_t got = axis == 0 ? rows : cols;
  if (got == expected) return;
  throw Error(fmt::format("{}: meta {} {} but section '{}' has {} {}{}", r.path(), field, value, name, got,
                          axis == 0 ? "rows" : "columns",
                          expected == value ? "" : fmt::format(" (expected {})", expected)));
}

void check_shapes(const ArchiveReader& r, const Meta& m) {
  expect_extent(r, "offsets", 0, m.num_nodes + 1, "num_nodes", m.num_nodes);
  expect_extent(r, "indices", 0, m.num_edges, "num_edges", m.num_edges);
  expect_extent(r, "features", 0, m.num_nodes, "num_nodes", m.num_nodes);
  expect_extent(r, "features", 1, m.num_features, "num_features", m.num_features);
  expect_extent(r, "labels", 0, m.num_nodes, "num_nodes", m.num_nodes);
  for (const char* mask : kMasks) expect_extent(r, mask, 0, m.num_nodes, "num_nodes", m.num_nodes);
}

Graph read_graph(const ArchiveReader& r, const Meta& m) {
  std::vector<int64_t> offsets = r.vector<int64_t>("offsets", m.num_nodes + 1);
  std::vector<int32_t> indices = r.vector<int32_t>("indices", m.num_edges);
  try {
    return Graph(std::move(offsets), std::move(indices));
  } catch (const Error& e) {  // the CSR check does not know the file
    throw Error(fmt::format("{}: {}", r.path(), e.what()));
  }
}

// A bool tensor read from u8 bytes; any byte but 0 or 1 would be an invalid bool.
at::Tensor read_mask(const ArchiveReader& r, const char* name) {
  at::Tensor mask = r.tensor(name);
  if (mask.scalar_type() == at::kBool && mask.view(at::kByte).gt(1).any().item<bool>()) {
    throw Error(fmt::format("{}: section '{}' holds bytes other than 0 and 1", r.path(), name));
  }
  return mask;
}

}  // namespace

void save_binary(const Dataset& d, const std::string& path) {
  d.check(fmt::format("dataset '{}' (saving {})", d.name, path));
  const nlohmann::json meta = {{"name", d.name},
                               {"num_nodes", d.num_nodes()},
                               {"num_edges", d.graph.num_edges()},
                               {"num_features", d.num_features()},
                               {"num_classes", d.num_classes}};
  // The writer references tensor memory until finish(), so the contiguous copies live here.
  const at::Tensor features = d.features.contiguous(), labels = d.labels.contiguous();
  const at::Tensor masks[] = {d.train_mask.contiguous(), d.val_mask.contiguous(), d.test_mask.contiguous()};
  ArchiveWriter w(path, kMagic, kDatasetFormatVersion);
  w.add_json("meta", meta);
  w.add("offsets", d.graph.offsets());
  w.add("indices", d.graph.indices());
  w.add("features", features);
  w.add("labels", labels);
  for (int i = 0; i < 3; ++i) w.add(kMasks[i], masks[i]);
  w.finish();
}

Dataset load_binary(const std::string& path) {
  const ArchiveReader r(path, kMagic, kDatasetFormatVersion);
  const Meta m = read_meta(r);
  check_shapes(r, m);
  Dataset d;
  d.name = m.name;
  d.num_classes = m.num_classes;
  d.graph = read_graph(r, m);
  d.features = r.tensor("features");
  d.labels = r.tensor("labels");
  d.train_mask = read_mask(r, kMasks[0]);
  d.val_mask = read_mask(r, kMasks[1]);
  d.test_mask = read_mask(r, kMasks[2]);
  d.check(path);
  return d;
}

bool is_binary_dataset(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof magic) == 0;
}

}  // namespace halo
