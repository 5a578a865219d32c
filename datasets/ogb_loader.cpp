#include "datasets/ogb_loader.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/text_reader.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

std::string raw_file(const std::string& dir, const char* name) { return (fs::path(dir) / "raw" / name).string(); }

// "ogbn_arxiv" for "data/ogbn_arxiv/" as well as "data/ogbn_arxiv".
std::string folder_name(const std::string& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

// Calls `row(in)` for every line of `path`. With `count` >= 0 the file must hold exactly that
// many lines, as `expected` describes; `row` never sees a line beyond `count`, so it may write
// into arrays of that size. Returns the number of lines.
template <class Row>
int64_t read_rows(const std::string& path, int64_t count, const std::string& expected, Row&& row) {
  TextReader in(path);
  while (in.next_line()) {
    if (count >= 0 && in.line_number() > count) in.fail(fmt::format("expected {}, found more", expected));
    row(in);
  }
  const int64_t lines = in.line_number();
  if (count >= 0 && lines < count) {
    throw Error(fmt::format("{}:{}: expected {}, but the file ends after {} lines", path, lines + 1, expected, lines));
  }
  return lines;
}

// A file of one line holding one non-negative integer (num-node-list, num-edge-list).
int64_t read_count(const std::string& path, const char* what) {
  int64_t value = 0;
  read_rows(path, 1, fmt::format("one line with the {}", what), [&](TextReader& in) {
    in.split(',', 1, what);
    value = in.integer(0, what);
    if (value < 0) in.fail(fmt::format("expected a non-negative {}, got {}", what, value));
  });
  return value;
}

at::Tensor read_labels(const std::string& path, int64_t n, const std::string& per_node) {
  at::Tensor labels = at::empty({n}, at::kLong);
  int64_t* y = labels.data_ptr<int64_t>();
  read_rows(path, n, per_node, [&](TextReader& in) {
    int64_t& out = y[in.line_number() - 1];
    const std::string_view s = in.line();
    if (s.empty() || s == "nan" || s == "NaN") {
      out = -1;
      return;
    }
    in.split(',', 1, "class id");
    out = in.integer(0, "class id");
    if (out < 0) in.fail(fmt::format("expected a class id >= 0 (or 'nan' for unlabelled), got {}", out));
  });
  return labels;
}

// F is the column count of line 1; every later line must match it.
at::Tensor read_features(const std::string& path, int64_t n, const std::string& per_node) {
  at::Tensor x = at::empty({n, 0}, at::kFloat);
  float* p = nullptr;
  int64_t f = 0;
  read_rows(path, n, per_node, [&](TextReader& in) {
    if (in.line_number() == 1) {
      if (in.line().empty()) in.fail("expected comma-separated feature values, found an empty line");
      f = static_cast<int64_t>(std::count(in.line().begin(), in.line().end(), ',')) + 1;
      x = at::empty({n, f}, at::kFloat);
      p = x.data_ptr<float>();
    }
    in.split(',', static_cast<size_t>(f), "feature values, as on line 1");
    for (int64_t j = 0; j < f; ++j) *p++ = in.real(static_cast<size_t>(j), "feature value");
  });
  return x;
}

EdgeList read_edges(const std::string& dir, int64_t n) {
  const std::string count_path = raw_file(dir, "num-edge-list.csv.gz");
  const bool counted = fs::exists(count_path);
  const int64_t m = counted ? read_count(count_path, "edge count") : -1;
  EdgeList edges;
  edges.num_nodes = n;
  // A corrupt count must not reserve terabytes; the vectors still grow past this cap.
  const size_t reserve = static_cast<size_t>(std::clamp<int64_t>(m, 0, int64_t{1} << 30));
  edges.src.reserve(reserve);
  edges.dst.reserve(reserve);
  read_rows(raw_file(dir, "edge.csv.gz"), m, fmt::format("{} edges (the edge count in {})", m, count_path),
            [&](TextReader& in) {
              in.split(',', 2, "src,dst");
              edges.src.push_back(static_cast<int32_t>(in.index(0, n, "source node id")));
              edges.dst.push_back(static_cast<int32_t>(in.index(1, n, "destination node id")));
            });
  return edges;
}

// The split folder to read: `wanted`, or the only one under split/.
fs::path pick_split(const std::string& dir, const std::string& wanted) {
  const fs::path root = fs::path(dir) / "split";
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) names.push_back(it->path().filename().string());
  }
  if (ec) throw Error(fmt::format("{}: cannot list split folders: {}", root.string(), ec.message()));
  std::sort(names.begin(), names.end());
  if (!wanted.empty()) {
    if (std::find(names.begin(), names.end(), wanted) != names.end()) return root / wanted;
    throw Error(fmt::format("{}: no split folder '{}' (found: {})", root.string(), wanted,
                            names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  }
  if (names.size() == 1) return root / names.front();
  if (names.empty()) {
    throw Error(fmt::format("{}: expected a split folder holding train/valid/test.csv.gz, found none", root.string()));
  }
  throw Error(fmt::format("{}: several split folders ({}); choose one with OgbOptions().split(name)", root.string(),
                          fmt::join(names, ", ")));
}

// Node ids of one split as a mask; every node in it must be labelled.
at::Tensor read_split(const fs::path& path, const at::Tensor& labels, const char* split) {
  const int64_t n = labels.size(0);
  const int64_t* y = labels.data_ptr<int64_t>();
  at::Tensor mask = at::zeros({n}, at::kBool);
  bool* m = mask.data_ptr<bool>();
  read_rows(path.string(), -1, "", [&](TextReader& in) {
    in.split(',', 1, "node id");
    const int64_t v = in.index(0, n, "node id");
    if (y[v] < 0) {
      in.fail(fmt::format("node {} is in the {} split but has no label in node-label.csv.gz", v, split));
    }
    m[v] = true;
  });
  return mask;
}

}  // namespace

bool is_ogb_dir(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(raw_file(dir, "edge.csv.gz"), ec);
}

Dataset load_ogb(const std::string& dir, const OgbOptions& options) {
  if (!fs::is_directory(dir)) throw Error(fmt::format("{}: no such dataset folder", dir));
  // Before the big files, so a wrong split name fails at once.
  const fs::path split = pick_split(dir, options.split());

  const std::string nodes_path = raw_file(dir, "num-node-list.csv.gz");
  const int64_t n = read_count(nodes_path, "node count");
  check_node_count(n, nodes_path + ":1");
  const std::string per_node = fmt::format("{} rows, one per node (the node count in {})", n, nodes_path);

  Dataset d;
  d.name = folder_name(dir);
  d.labels = read_labels(raw_file(dir, "node-label.csv.gz"), n, per_node);
  d.num_classes = n > 0 ? d.labels.max().item<int64_t>() + 1 : 0;
  d.features = read_features(raw_file(dir, "node-feat.csv.gz"), n, per_node);
  d.graph = Graph::from_edges(read_edges(dir, n),
                              GraphOptions().symmetrize(options.symmetrize()).self_loops(SelfLoops::remove));
  d.train_mask = read_split(split / "train.csv.gz", d.labels, "train");
  d.val_mask = read_split(split / "valid.csv.gz", d.labels, "valid");
  d.test_mask = read_split(split / "test.csv.gz", d.labels, "test");
  d.check(dir);
  return d;
}

}  // namespace halo
