#pragma once
// One epoch's BNS-GCN sample of the halo (DESIGN rule 3) as a rank computes on it: the Block over
// its inner and sampled halo columns, layer 0's input rows for that Block, and the scale of the
// sampled rows. O(local edges + halo) per epoch.
#include <ATen/core/Tensor.h>

#include <memory>

#include "sampling/block.h"
#include "sampling/boundary_sampler.h"

namespace halo {

class SampledHalo {
 public:
  // block: over [inner | full halo]; input: its rows for every column, or layer 0's precomputed
  // rows (precomputed); block outlives this. scale lives on `device`.
  SampledHalo(const Block& block, const at::Tensor& input, bool precomputed, const HaloPlan& full, double rate,
              uint64_t seed, at::Device device);

  // Draws epoch `epoch`'s sample.
  void draw(int64_t epoch);

  const BoundarySampler& sampler() const { return sampler_; }
  const BoundarySample& sample() const { return sample_; }
  const Block& block() const { return *block_; }
  // Precomputed, the full input: layer 0's aggregate is over the full halo and reads no halo rows.
  const at::Tensor& input() const { return rows_.defined() ? rows_ : input_; }

 private:
  const Block& full_block_;
  at::Tensor input_;
  bool precomputed_;
  at::Device device_;
  BoundarySampler sampler_;
  BoundarySample sample_;
  std::unique_ptr<Block> block_;
  at::Tensor rows_;  // dense rows allocated once: the sample's size is fixed by p
};

}  // namespace halo
