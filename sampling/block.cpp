#include "sampling/block.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <functional>
#include <numeric>

#include "core/error.h"

namespace halo {
namespace {

at::Tensor float_tensor(const std::vector<int32_t>& v) {
  return at::tensor(std::vector<float>(v.begin(), v.end()), at::kFloat);
}

const Csr& lazily(std::unique_ptr<Csr>& slot, const std::function<Csr()>& make) {
  if (!slot) slot = std::make_unique<Csr>(make());
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

const Csr& Block::adjacency_t() const {
  return lazily(adjacency_t_, [&] { return adjacency_.transposed(); });
}
const Csr& Block::with_self_loops() const {
  return lazily(loops_, [&] { return adjacency_.with_diagonal(); });
}
const Csr& Block::with_self_loops_t() const {
  return lazily(loops_t_, [&] { return with_self_loops().transposed(); });
}

}  // namespace halo
