#include "sampling/boundary_sampler.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/counter_rng.h"
#include "core/error.h"

namespace halo {
namespace {

// Keeps sample streams apart from every other stream keyed by the run's seed.
constexpr uint64_t kBoundaryStream = 0x424e53;  // "BNS"

}  // namespace

BoundarySampler::BoundarySampler(HaloPlan full, double rate, uint64_t seed)
    : full_(std::move(full)), rate_(rate), seed_(seed) {
  if (!(rate >= 0 && rate <= 1)) throw UsageError(fmt::format("boundary rate must be in [0, 1], got {}", rate));
}

int64_t BoundarySampler::drawn(int64_t total) const {
  return static_cast<int64_t>(std::floor(rate_ * static_cast<double>(total)));
}

// Knuth's selection sampling (TAOCP 3.4.2, Algorithm S): position i is kept with probability
// (still needed) / (still left), which draws a uniform k-subset, already in ascending order.
std::vector<int64_t> BoundarySampler::positions(int64_t epoch, int32_t owner, int32_t peer, int64_t total) const {
  const int64_t k = drawn(total);
  std::vector<int64_t> kept(static_cast<size_t>(k));
  if (k == total) {
    std::iota(kept.begin(), kept.end(), 0);
    return kept;
  }
  CounterRng rng(stream_key(seed_, static_cast<uint64_t>(epoch), static_cast<uint64_t>(owner),
                            static_cast<uint64_t>(peer), kBoundaryStream));
  int64_t n = 0;
  for (int64_t i = 0; i < total && n < k; ++i) {
    if (static_cast<int64_t>(rng.below(static_cast<uint64_t>(total - i))) < k - n) kept[n++] = i;
  }
  return kept;
}

BoundarySample BoundarySampler::draw(int64_t epoch) const {
  BoundarySample sample;
  HaloPlan& plan = sample.plan;
  plan.rank = full_.rank;
  plan.num_ranks = full_.num_ranks;
  plan.num_inner = full_.num_inner;
  plan.send_offsets.assign(1, 0);
  plan.recv_offsets.assign(1, 0);
  std::vector<int32_t>& halo = sample.halo;
  std::vector<float> owner_scale;  // per sampled halo node, in draw order
  bool all_ones = true;
  for (int32_t j = 0; j < full_.num_ranks; ++j) {
    for (int64_t p : positions(epoch, full_.rank, j, full_.rows_to(j))) {
      plan.send_rows.push_back(full_.send_rows[full_.send_offsets[j] + p]);
    }
    plan.send_offsets.push_back(static_cast<int64_t>(plan.send_rows.size()));
    const int64_t total = full_.rows_from(j);
    const std::vector<int64_t> from_j = positions(epoch, j, full_.rank, total);
    for (int64_t q : from_j) halo.push_back(full_.recv_rows[full_.recv_offsets[j] + q]);
    plan.recv_offsets.push_back(static_cast<int64_t>(halo.size()));
    const auto drawn = static_cast<int64_t>(from_j.size());
    all_ones = all_ones && drawn == total;
    owner_scale.insert(
        owner_scale.end(), from_j.size(),
        static_cast<float>(static_cast<double>(total) / static_cast<double>(std::max<int64_t>(drawn, 1))));
  }
  // Received rows are listed per peer in send order; the sampled columns keep the full halo's
  // order, so sampled_position maps one to the other.
  plan.recv_rows = halo;
  std::sort(halo.begin(), halo.end());
  std::vector<int32_t> sampled_position(static_cast<size_t>(full_.num_halo), -1);
  for (size_t i = 0; i < halo.size(); ++i) sampled_position[static_cast<size_t>(halo[i])] = static_cast<int32_t>(i);
  std::vector<float> scale(halo.size());
  for (size_t i = 0; i < plan.recv_rows.size(); ++i) {
    int32_t& row = plan.recv_rows[i];
    row = sampled_position[static_cast<size_t>(row)];
    scale[static_cast<size_t>(row)] = owner_scale[i];
  }
  plan.num_halo = static_cast<int64_t>(halo.size());
  sample.scale = all_ones ? at::Tensor() : at::tensor(scale, at::kFloat);
  return sample;
}

void rescale_rows_(at::Tensor& rows, const at::Tensor& scale) {
  if (scale.defined()) rows.mul_(scale.unsqueeze(1).to(rows.scalar_type()));
}

at::Tensor rescaled_rows(const at::Tensor& rows, const at::Tensor& scale) {
  return scale.defined() ? rows.mul(scale.unsqueeze(1).to(rows.scalar_type())) : rows;
}

}  // namespace halo
