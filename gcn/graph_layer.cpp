#include "gcn/graph_layer.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/counter_rng.h"
#include "core/error.h"
#include "gcn/dropout.h"

namespace halo {

void check_layer_input(const char* layer, const Block& block, const at::Tensor& x, int64_t in_features) {
  if (x.dim() != 2 || x.size(0) != block.num_cols() || x.size(1) != in_features) {
    throw Error(fmt::format("{}: input must be [{}, {}] (one row per Block column), got [{}]", layer, block.num_cols(),
                            in_features, fmt::join(x.sizes(), ", ")));
  }
}

// The extra GEMM work of projecting first, (cols - rows) * in * out multiply-adds, against the
// aggregation work it saves, entries * (in - out) gathered elements. A gathered element costs
// about 16 multiply-adds: the aggregation reads random rows and is bound by memory, the GEMM
// runs from cache at ~16 multiply-adds per element loaded (AVX2/AVX-512 FMA, measured 8-30).
// Projecting first also keeps less until backward: the fused dropout and product keep only their
// input, where aggregating first keeps the dropped input and the aggregate as well (a hidden
// GraphSAGE layer of 256 on a 4-rank products-sim part: 1.4 GB by size). That is worth GEMMs over a
// quarter more rows, so the work of projecting first is allowed that much more.
bool project_first(const Block& block, Loops loops, int64_t in, int64_t out) {
  constexpr double kGatherCost = 16, kMemoryRows = 0.25;
  const double entries = static_cast<double>(block.adjacency().nnz() + (loops == Loops::with ? block.num_rows() : 0));
  const double rows = static_cast<double>(block.num_rows()), extra_rows = static_cast<double>(block.num_cols()) - rows;
  const double product = static_cast<double>(in) * static_cast<double>(out);
  return extra_rows * product <= kGatherCost * entries * static_cast<double>(in - out) + kMemoryRows * rows * product;
}

void GraphLayerImpl::set_random_key(uint64_t key) {
  random_key_ = key;
  uint64_t stream = 0;
  for (const auto& m : modules(/*include_self=*/false)) {
    if (auto* dropout = dynamic_cast<DropoutImpl*>(m.get())) dropout->set_random_key(stream_key(key, ++stream));
  }
}

void copy_module_state(const torch::nn::Module& from, torch::nn::Module& to,
                       const c10::optional<torch::Device>& device) {
  torch::NoGradGuard no_grad;
  const auto copy = [&](const torch::OrderedDict<std::string, at::Tensor>& source,
                        torch::OrderedDict<std::string, at::Tensor> target) {
    for (const auto& item : source) {
      at::Tensor* t = target.find(item.key());
      if (t == nullptr) throw Error(fmt::format("clone: the new {} has no '{}'", to.name(), item.key()));
      t->set_data(device ? item.value().to(*device, /*non_blocking=*/false, /*copy=*/true) : item.value().clone());
    }
  };
  copy(from.named_parameters(), to.named_parameters());
  copy(from.named_buffers(), to.named_buffers());
  to.train(from.is_training());
}

namespace {
[[noreturn]] void no_precompute(const std::string& layer) {
  throw Error(fmt::format("{}: this layer has no parameter-free aggregation to precompute", layer));
}
}  // namespace

at::Tensor GraphLayerImpl::forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops) {
  return forward(block, apply_input_ops(x, ops));
}

at::Tensor GraphLayerImpl::forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                              const InputOps& ops) {
  return forward_fused(block, at::cat({inner, halo()}), ops);
}

LateHalo::LateHalo(Whole whole, Parts parts) : whole_(std::move(whole)), parts_(std::move(parts)) {}

at::Tensor LateHalo::operator()() const {
  *asked_ = true;
  return whole_();
}

void LateHalo::for_each_part(const Block& block, const Visit& visit) const {
  if (!parts_) {
    visit(block.halo_part(), (*this)());
    return;
  }
  *asked_ = true;
  parts_(block, visit);
}

void LateHalo::complete() const {
  if (!*asked_) (*this)();
}

InputOps part_input_ops(const Block& part, const InputOps& ops) {
  InputOps o = ops;
  if (o.dropout.ids.defined()) o.dropout.ids = part.node_ids();
  return o;
}

std::pair<InputOps, InputOps> split_input_ops(const Block& block, const InputOps& ops) {
  std::pair<InputOps, InputOps> split{ops, ops};
  const at::Tensor& ids = ops.dropout.ids;
  if (ids.defined()) {
    const int64_t n = block.num_rows();
    split.first.dropout.ids = ids.narrow(0, 0, n);
    split.second.dropout.ids = ids.narrow(0, n, ids.size(0) - n);
  }
  return split;
}

at::Tensor GraphLayerImpl::precompute(const Block&, const at::Tensor&) { no_precompute(name()); }
at::Tensor GraphLayerImpl::forward_precomputed(const at::Tensor&, const KeyedDropout&) { no_precompute(name()); }

}  // namespace halo
