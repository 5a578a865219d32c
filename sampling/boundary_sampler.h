#pragma once
// BoundarySampler: BNS-GCN's random boundary-node sampling (DESIGN rule 3). Every epoch, for
// each peer, an owner sends floor(p * |B|) of the |B| rows that peer needs, drawn uniformly
// without replacement from a stream keyed by (seed, epoch, owner, peer). Both ends of a message
// draw the same positions from that key, so the receiver regenerates the sample instead of
// receiving an index list: no extra message, and O(|B|) work on each side.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "comm/halo_plan.h"

namespace halo {

// One epoch's sample, seen from one rank.
struct BoundarySample {
  // The sampled sub-plan: its halo positions index `halo` below (num_halo = halo.size()).
  HaloPlan plan;
  // Full-plan halo position of every sampled halo node, ascending (so with p = 1 the sampled
  // Block is the full one, column for column).
  std::vector<int32_t> halo;
  // float32 [halo.size()]: 1 / ratio of the node's owner (ratio = drawn / total for that
  // owner), the factor that keeps the aggregate unbiased. Undefined when every ratio is 1.
  at::Tensor scale;
};

// The unbiasing rescale of sampled halo rows (or of their gradients): row i times scale[i], in
// place or into a new tensor; with an undefined scale, the rows themselves.
void rescale_rows_(at::Tensor& rows, const at::Tensor& scale);
at::Tensor rescaled_rows(const at::Tensor& rows, const at::Tensor& scale);

class BoundarySampler {
 public:
  // rate: p in [0, 1]; seed: the run's seed.
  BoundarySampler(HaloPlan full, double rate, uint64_t seed);

  // Epoch `epoch`'s sample (the same on every call for that epoch). O(halo + boundary).
  BoundarySample draw(int64_t epoch) const;

  // Ascending positions, within the `total` rows `owner` sends `peer`, drawn for `epoch`.
  std::vector<int64_t> positions(int64_t epoch, int32_t owner, int32_t peer, int64_t total) const;
  int64_t drawn(int64_t total) const;  // floor(p * total)

  const HaloPlan& full() const { return full_; }
  double rate() const { return rate_; }

 private:
  HaloPlan full_;
  double rate_;
  uint64_t seed_;
};

}  // namespace halo
