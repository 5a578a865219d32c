#include "sampling/block.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/index_tensor.h"

namespace halo {
namespace {

at::Tensor float_tensor(const std::vector<int32_t>& v) {
  return at::tensor(std::vector<float>(v.begin(), v.end()), at::kFloat);
}

template <class T, class Make>
const T& lazily(std::unique_ptr<T>& slot, const Make& make) {
  if (!slot) slot = std::make_unique<T>(make());
  return *slot;
}

}  // namespace

Block::Block(Csr adjacency, std::vector<int32_t> in_degree, std::vector<int32_t> out_degree,
             std::vector<int64_t> node_ids)
    : adjacency_(std::move(adjacency)) {
  const auto cols = static_cast<size_t>(adjacency_.cols);
  if (adjacency_.rows() > adjacency_.cols || in_degree.size() != cols || out_degree.size() != cols ||
      node_ids.size() != cols) {
    throw Error(fmt::format("Block: {} rows and {} columns need rows <= columns and {} degrees and ids, got {}/{}/{}",
                            adjacency_.rows(), cols, cols, in_degree.size(), out_degree.size(), node_ids.size()));
  }
  in_degree_ = float_tensor(in_degree);
  out_degree_ = float_tensor(out_degree);
  node_ids_ = at::tensor(node_ids, at::kLong);
}

Block Block::keep_columns(const std::vector<int32_t>& columns) const {
  const int64_t rows = num_rows();
  bool valid = rows_are_columns_ && static_cast<int64_t>(columns.size()) >= rows;
  for (size_t i = 0; valid && i < columns.size(); ++i) {
    valid = (static_cast<int64_t>(i) < rows ? columns[i] == static_cast<int32_t>(i) : columns[i] > columns[i - 1]) &&
            columns[i] < num_cols();
  }
  if (!valid) {
    throw Error(fmt::format("Block::keep_columns: expected ascending columns below {} starting with 0 .. {}",
                            num_cols(), rows - 1));
  }
  std::vector<int32_t> renamed(static_cast<size_t>(num_cols()), -1);
  for (size_t i = 0; i < columns.size(); ++i) renamed[static_cast<size_t>(columns[i])] = static_cast<int32_t>(i);
  Csr a;
  a.cols = static_cast<int64_t>(columns.size());
  a.offsets.reserve(static_cast<size_t>(rows) + 1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t e = adjacency_.offsets[r]; e < adjacency_.offsets[r + 1]; ++e) {
      const int32_t c = renamed[static_cast<size_t>(adjacency_.indices[e])];
      if (c >= 0) a.indices.push_back(c);
    }
    a.offsets.push_back(static_cast<int64_t>(a.indices.size()));
  }
  const at::Tensor kept = index_tensor(columns, device());
  Block b;
  b.adjacency_ = std::move(a);
  b.in_degree_ = in_degree_.index_select(0, kept);
  b.out_degree_ = out_degree_.index_select(0, kept);
  b.node_ids_ = node_ids_.index_select(0, kept);
  return b;
}

Block Block::whole_graph(const Graph& g) {
  const Graph simple = g.num_self_loops() > 0 ? g.with_self_loops(SelfLoops::remove) : g;
  Csr a;
  a.cols = simple.num_nodes();
  a.offsets = simple.offsets();
  a.indices = simple.indices();
  std::vector<int64_t> ids(simple.num_nodes());
  std::iota(ids.begin(), ids.end(), 0);
  return Block(std::move(a), simple.in_degrees(), simple.out_degrees(), std::move(ids));
}

const Block& Block::inner_part() const {
  return lazily(inner_part_, [&] {
    std::vector<int32_t> inner(static_cast<size_t>(num_rows()));
    std::iota(inner.begin(), inner.end(), 0);
    return keep_columns(inner);
  });
}

const Block& Block::halo_part() const {
  return lazily(halo_part_, [&] { return halo_columns(0, num_cols() - num_rows()); });
}

Block Block::halo_columns(int64_t first, int64_t count) const {
  const int64_t rows = num_rows(), halo = num_cols() - rows;
  if (!rows_are_columns_) throw Error("Block::halo_columns: a halo part has no halo columns of its own");
  if (first < 0 || count < 0 || first + count > halo) {
    throw Error(fmt::format("Block::halo_columns: halo columns [{}, {}) asked of a Block with {} halo columns", first,
                            first + count, halo));
  }
  const auto begin_col = static_cast<int32_t>(rows + first), end_col = static_cast<int32_t>(rows + first + count);
  Block b;
  b.rows_are_columns_ = false;
  Csr& a = b.adjacency_;
  a.cols = count;
  a.offsets.reserve(static_cast<size_t>(rows) + 1);
  for (int64_t r = 0; r < rows; ++r) {
    // Columns are sorted within a row: the range is one run of each.
    const int32_t* begin = adjacency_.indices.data() + adjacency_.offsets[r];
    const int32_t* end = adjacency_.indices.data() + adjacency_.offsets[r + 1];
    for (const int32_t* c = std::lower_bound(begin, end, begin_col); c != end && *c < end_col; ++c) {
      a.indices.push_back(*c - begin_col);
    }
    a.offsets.push_back(static_cast<int64_t>(a.indices.size()));
  }
  b.in_degree_ = in_degree_.narrow(0, rows + first, count);
  b.out_degree_ = out_degree_.narrow(0, rows + first, count);
  b.node_ids_ = node_ids_.narrow(0, rows + first, count);
  return b;
}

const Csr& Block::adjacency_t() const {
  return lazily(adjacency_t_, [&] { return adjacency_.transposed(); });
}
const Csr& Block::with_self_loops() const {
  if (!rows_are_columns_) throw Error("Block: a halo part has no self-loops (its rows are not its columns)");
  return lazily(loops_, [&] { return adjacency_.with_diagonal(); });
}
const Csr& Block::with_self_loops_t() const {
  return lazily(loops_t_, [&] { return with_self_loops().transposed(); });
}

const Csr& Block::adjacency_t_pattern() const {
  return lazily(symmetric_, [&] { return adjacency_.is_symmetric(); }) ? adjacency_ : adjacency_t();
}
const Csr& Block::with_self_loops_t_pattern() const {
  return lazily(symmetric_, [&] { return adjacency_.is_symmetric(); }) ? with_self_loops() : with_self_loops_t();
}

void Block::to(at::Device device) {
  in_degree_ = in_degree_.to(device);
  out_degree_ = out_degree_.to(device);
  node_ids_ = node_ids_.to(device);
  for (auto& t : tensors_) t.reset();
  inner_part_.reset();
  halo_part_.reset();
}

const CsrTensors& Block::tensors(const Csr& a) const {
  const Csr* const own[] = {&adjacency_, adjacency_t_.get(), loops_.get(), loops_t_.get()};
  const auto slot = std::find(std::begin(own), std::end(own), &a);
  if (slot == std::end(own)) throw Error("Block::tensors: the adjacency is not one of this Block's");
  std::unique_ptr<CsrTensors>& t = tensors_[slot - std::begin(own)];
  if (!t) {
    t = std::make_unique<CsrTensors>();
    t->offsets = index_tensor(a.offsets, device());
    t->cols = index_tensor(a.indices, device());
    t->rows = at::arange(a.rows(), t->offsets.options()).repeat_interleave(t->offsets.diff());
    if (!a.edge_ids.empty()) t->edge_ids = index_tensor(a.edge_ids, device());
  }
  return *t;
}

}  // namespace halo
