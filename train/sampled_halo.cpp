#include "train/sampled_halo.h"

#include <ATen/Functions.h>

#include <numeric>

#include "core/index_tensor.h"
#include "gcn/sparse_features.h"

namespace halo {

SampledHalo::SampledHalo(const Block& block, const at::Tensor& input, bool precomputed, const HaloPlan& full,
                         double rate, uint64_t seed, at::Device device)
    : full_block_(block), input_(input), precomputed_(precomputed), device_(device), sampler_(full, rate, seed) {}

// The Block keeps the sampled halo columns; the input rows are gathered from the full halo's
// (fixed, so layer 0 still never exchanges) and scaled.
void SampledHalo::draw(int64_t epoch) {
  sample_ = sampler_.draw(epoch);
  if (sample_.scale.defined()) sample_.scale = sample_.scale.to(device_);
  const int64_t inner = sampler_.full().num_inner, halo = sample_.plan.num_halo;
  std::vector<int32_t> columns(static_cast<size_t>(inner));
  std::iota(columns.begin(), columns.end(), 0);
  for (int32_t h : sample_.halo) columns.push_back(static_cast<int32_t>(inner + h));
  block_ = std::make_unique<Block>(full_block_.keep_columns(columns));
  // Precomputed, layer 0 reads no halo rows: its aggregate is over the full halo, exact. So
  // does BNS-GCN with --use-pp (it samples layers >= 1 only); that also costs no time per
  // epoch and adds no variance, while sampling it would mean aggregating again every epoch.
  if (precomputed_) return;
  const at::Tensor index =
      index_tensor(c10::ArrayRef<int32_t>(columns).slice(static_cast<size_t>(inner)), input_.device());
  if (is_sparse_rows(input_)) {
    at::Tensor scale = sample_.scale;
    if (scale.defined()) scale = at::cat({at::ones({inner}, scale.options()), scale});
    rows_ = select_sparse_rows(input_, at::cat({at::arange(inner, at::kLong), index}), scale);
    return;
  }
  if (!rows_.defined() || rows_.size(0) != inner + halo) {
    rows_ = at::empty({inner + halo, input_.size(1)}, input_.options());
    rows_.narrow(0, 0, inner).copy_(input_.narrow(0, 0, inner));
  }
  at::Tensor rows = rows_.narrow(0, inner, halo);
  at::index_select_out(rows, input_, 0, index);
  if (sample_.scale.defined()) rows.mul_(sample_.scale.unsqueeze(1).to(rows.scalar_type()));
}

}  // namespace halo
