#include "datasets/plain_loader.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>
#include <iterator>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/resources.h"
#include "core/text_reader.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

// "key value" per line; the value is the rest of the line and may hold spaces.
std::map<std::string, std::string> read_meta(const std::string& path) {
  std::map<std::string, std::string> meta;
  TextReader in(path);
  while (in.next_line()) {
    const std::string_view line = in.line();
    const size_t key_end = line.find_first_of(" \t");
    const size_t value_begin = key_end == std::string_view::npos ? key_end : line.find_first_not_of(" \t", key_end);
    if (key_end == 0 || value_begin == std::string_view::npos) in.fail("expected 'key value'");
    const size_t value_end = line.find_last_not_of(" \t") + 1;
    meta[std::string(line.substr(0, key_end))] = std::string(line.substr(value_begin, value_end - value_begin));
  }
  return meta;
}

int64_t meta_int(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw Error(fmt::format("{}: missing key '{}'", path, key));
  try {
    size_t used = 0;
    const int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw Error(fmt::format("{}: '{}' must be a non-negative integer, got '{}'", path, key, it->second));
}

std::vector<int64_t> read_ids(const std::string& path, int64_t n) {
  std::vector<int64_t> ids;
  TextReader in(path);
  while (in.next_line()) {
    in.split(' ', 1, "node id");
    ids.push_back(in.index(0, n, "node id"));
  }
  return ids;
}

}  // namespace

Dataset load_plain(const std::string& dir) {
  const std::string meta_path = (fs::path(dir) / "meta.txt").string();
  if (!fs::is_directory(dir)) throw Error(fmt::format("{}: no such dataset folder", dir));
  const auto meta = read_meta(meta_path);

  Dataset d;
  d.name = meta.count("name") ? meta.at("name") : fs::path(dir).filename().string();

  // labels.txt defines N: line i is node i.
  std::vector<int64_t> labels;
  {
    TextReader in((fs::path(dir) / "labels.txt").string());
    while (in.next_line()) {
      in.split(' ', 1, "class id");
      const int64_t y = in.integer(0, "class id");
      if (y < -1) in.fail(fmt::format("class id must be >= 0 (or -1 for unlabelled), got {}", y));
      labels.push_back(y);
    }
  }
  const int64_t n = static_cast<int64_t>(labels.size());
  check_node_count(n, (fs::path(dir) / "labels.txt").string());
  if (meta.count("num_nodes") && meta_int(meta, "num_nodes", meta_path) != n) {
    throw Error(fmt::format("{}: num_nodes is {} but labels.txt has {} lines", meta_path,
                            meta_int(meta, "num_nodes", meta_path), n));
  }
  const int64_t max_label = labels.empty() ? -1 : *std::max_element(labels.begin(), labels.end());
  d.num_classes = meta.count("num_classes") ? meta_int(meta, "num_classes", meta_path) : max_label + 1;
  if (max_label >= d.num_classes) {
    throw Error(fmt::format("{}: labels.txt has class {} but num_classes is {}", meta_path, max_label, d.num_classes));
  }
  d.labels = at::from_blob(labels.data(), {n}, at::kLong).clone();

  EdgeList edges;
  edges.num_nodes = n;
  {
    TextReader in((fs::path(dir) / "edges.txt").string());
    while (in.next_line()) {
      in.split(' ', 2, "src dst");
      edges.src.push_back(static_cast<int32_t>(in.index(0, n, "source node id")));
      edges.dst.push_back(static_cast<int32_t>(in.index(1, n, "destination node id")));
    }
  }
  d.graph = Graph::from_edges(edges, GraphOptions().symmetrize(true).self_loops(SelfLoops::remove));

  const int64_t f = meta_int(meta, "num_features", meta_path);
  fs::path feature_path = fs::path(dir) / "features.txt";
  if (!fs::exists(feature_path) && fs::exists(fs::path(dir) / "features_partial.txt")) {
    feature_path = fs::path(dir) / "features_partial.txt";
    spdlog::warn("{}: only partial features ({}); missing rows are zero", dir, feature_path.filename().string());
  }
  const std::string shortfall = memory_shortfall(static_cast<double>(n) * static_cast<double>(f) * sizeof(float),
                                                 fmt::format("{}: num_features {} for {} nodes", meta_path, f, n));
  if (!shortfall.empty()) throw Error(shortfall);
  d.features = at::zeros({n, f}, at::kFloat);
  {
    float* x = d.features.data_ptr<float>();
    TextReader in(feature_path.string());
    while (in.next_line()) {
      in.split(' ', 3, "node feature value");
      const int64_t v = in.index(0, n, "node id");
      const int64_t j = in.index(1, f, "feature index");
      x[v * f + j] = in.real(2, "feature value");
    }
  }

  d.train_mask = mask_from_ids(read_ids((fs::path(dir) / "train.txt").string(), n), n);
  d.val_mask = mask_from_ids(read_ids((fs::path(dir) / "val.txt").string(), n), n);
  d.test_mask = mask_from_ids(read_ids((fs::path(dir) / "test.txt").string(), n), n);
  d.check(dir);
  return d;
}

namespace {

// A plain folder is recognised by its meta.txt, which save_plain writes last.
bool holds_plain(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / "meta.txt"); }

constexpr const char* kPlainKind = "a plain dataset (meta.txt)";
constexpr const char* kPlainFiles[] = {"edges.txt", "features.txt", "labels.txt", "train.txt",
                                       "val.txt",   "test.txt",     "meta.txt"};

// One file of the layout, formatted a megabyte at a time into AtomicFile.
class TextOut {
 public:
  explicit TextOut(const std::string& path) : file_(path) {}
  template <typename... T>
  void print(fmt::format_string<T...> format, T&&... args) {
    fmt::format_to(std::back_inserter(buffer_), format, std::forward<T>(args)...);
    if (buffer_.size() >= (1 << 20)) flush();
  }
  void commit() {
    flush();
    file_.commit();
  }

 private:
  void flush() {
    file_.write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  AtomicFile file_;
  fmt::memory_buffer buffer_;
};

}  // namespace

void check_plain_output(const std::string& dir, bool overwrite, const std::string& what) {
  const OutputFolder out(dir, holds_plain(dir), overwrite, kPlainKind, what);
  // Even a folder --overwrite lets it replace may hold a special file under one of its names.
  for (const char* name : kPlainFiles) out.check(name);
}

void save_plain(const Dataset& d, const std::string& dir, bool overwrite) {
  if (!d.graph.is_symmetric()) throw Error(fmt::format("{}: the plain layout holds undirected graphs only", dir));
  check_plain_output(dir, overwrite);  // every refusal before anything changes
  OutputFolder out(dir, holds_plain(dir), overwrite, kPlainKind);
  // Without meta.txt a half-replaced folder never loads as the old dataset.
  if (out.replaces()) fs::remove(fs::path(dir) / "meta.txt");
  auto write = [&](const char* name, const std::function<void(TextOut&)>& body) {
    out.write(name, [&](const std::string& path) {
      TextOut text(path);
      body(text);
      text.commit();
    });
  };
  const int64_t n = d.num_nodes(), f = d.num_features();
  write("edges.txt", [&](TextOut& text) {
    for (int32_t v = 0; v < n; ++v) {
      for (int32_t u : d.graph.in_neighbors(v)) {
        if (u < v) text.print("{} {}\n", u, v);
      }
    }
  });
  write("features.txt", [&](TextOut& text) {
    const at::Tensor x = d.features.contiguous();
    const float* p = x.data_ptr<float>();
    for (int64_t v = 0; v < n; ++v) {
      for (int64_t j = 0; j < f; ++j) {
        if (p[v * f + j] != 0.0f) text.print("{} {} {}\n", v, j, p[v * f + j]);
      }
    }
  });
  write("labels.txt", [&](TextOut& text) {
    const int64_t* y = d.labels.data_ptr<int64_t>();
    for (int64_t v = 0; v < n; ++v) text.print("{}\n", y[v]);
  });
  for (const auto& [mask, name] :
       {std::pair{&d.train_mask, "train.txt"}, {&d.val_mask, "val.txt"}, {&d.test_mask, "test.txt"}}) {
    write(name, [&, mask = mask](TextOut& text) {
      const bool* m = mask->data_ptr<bool>();
      for (int64_t v = 0; v < n; ++v) {
        if (m[v]) text.print("{}\n", v);
      }
    });
  }
  write("meta.txt", [&](TextOut& text) {
    text.print("name {}\nnum_nodes {}\nnum_features {}\nnum_classes {}\n", d.name, n, f, d.num_classes);
  });
  out.done();
}

}  // namespace halo
