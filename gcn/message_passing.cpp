#include "gcn/message_passing.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <initializer_list>
#include <vector>

#include "core/error.h"

namespace halo {
namespace {

// t must be a floating-point tensor on the Block's device whose first dimension is one of `rows`.
void check_rows(const char* op, const char* name, const Block& block, const at::Tensor& t,
                std::initializer_list<int64_t> rows, const char* expected) {
  if (!t.defined()) throw Error(fmt::format("{}: {} is undefined", op, name));
  if (!at::isFloatingType(t.scalar_type())) {
    throw Error(
        fmt::format("{}: {} has dtype {}, expected a floating-point one", op, name, c10::toString(t.scalar_type())));
  }
  if (t.device() != block.device()) {
    throw Error(
        fmt::format("{}: {} is on {}, expected the Block's {}", op, name, t.device().str(), block.device().str()));
  }
  for (int64_t r : rows) {
    if (t.dim() >= 1 && t.size(0) == r) return;
  }
  throw Error(fmt::format("{}: {} has shape [{}], expected {} rows ({})", op, name, fmt::join(t.sizes(), ", "),
                          fmt::join(rows, " or "), expected));
}

const CsrTensors& entries(const Block& block, Loops loops) { return block.tensors(adjacency(block, loops)); }

}  // namespace

at::Tensor gather_sources(const Block& block, Loops loops, const at::Tensor& x) {
  check_rows("gather_sources", "x", block, x, {block.num_cols()}, "one per Block column");
  return x.index_select(0, entries(block, loops).cols);
}

at::Tensor gather_destinations(const Block& block, Loops loops, const at::Tensor& x) {
  check_rows("gather_destinations", "x", block, x, {block.num_rows(), block.num_cols()},
             "one per Block row, or per column");
  return x.index_select(0, entries(block, loops).rows);
}

at::Tensor reduce_messages(const Block& block, Loops loops, const at::Tensor& messages, Reduce reduce) {
  const CsrTensors& a = entries(block, loops);
  const int64_t nnz = a.cols.size(0);
  check_rows("reduce_messages", "messages", block, messages, {nnz}, "one per entry of the adjacency");
  std::vector<int64_t> sizes = messages.sizes().vec();
  sizes[0] = block.num_rows();
  // segment_reduce refuses empty data; every row is empty then.
  if (nnz == 0) return at::zeros(sizes, messages.options());
  if (reduce == Reduce::sum) return at::segment_reduce(messages, "sum", {}, {}, a.offsets, 0, false, 0);
  // Entries per row, shaped to divide or mask the rows of the result.
  std::vector<int64_t> per_row(sizes.size(), 1);
  per_row[0] = block.num_rows();
  const at::Tensor count = a.offsets.diff().view(per_row);
  if (reduce == Reduce::mean) {
    return at::segment_reduce(messages, "sum", {}, {}, a.offsets, 0, false, 0) /
           count.clamp_min(1).to(messages.scalar_type());
  }
  // No initial value: it would take part in every row's max; empty rows come out as -inf / inf.
  const at::Tensor y = at::segment_reduce(messages, reduce == Reduce::max ? "max" : "min", {}, {}, a.offsets);
  return at::where(count.gt(0), y, at::zeros({}, y.options()));
}

}  // namespace halo
