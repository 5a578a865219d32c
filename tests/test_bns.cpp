// BNS-GCN's BoundarySampler in one process (DESIGN rule 3): exact sample sizes, uniform and
// reproducible draws, and an unbiased aggregate.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "datasets/dataset_source.h"
#include "gcn/graph_ops.h"
#include "partition/partition_dir.h"
#include "sampling/boundary_sampler.h"
#include "sampling/shard_block.h"
#include "test_support.h"

namespace halo {
namespace {

// Rank 0 of 3: sends 100 rows to peer 1 and 40 to peer 2, holds 50 halo rows from peer 1 and 30
// from peer 2 (interleaved in its halo order, as a partition may list them).
HaloPlan hand_made_plan() {
  HaloPlan plan;
  plan.rank = 0;
  plan.num_ranks = 3;
  plan.num_inner = 200;
  plan.num_halo = 80;
  plan.send_offsets = {0, 0, 100, 140};
  for (int32_t i = 0; i < 100; ++i) plan.send_rows.push_back(2 * i);
  for (int32_t i = 0; i < 40; ++i) plan.send_rows.push_back(199 - i);
  plan.recv_offsets = {0, 0, 50, 80};
  for (int32_t i = 0; i < 50; ++i) plan.recv_rows.push_back(i < 30 ? 2 * i : 30 + i);
  for (int32_t i = 0; i < 30; ++i) plan.recv_rows.push_back(2 * i + 1);
  plan.check("hand-made plan");
  return plan;
}

TEST(BoundarySampler, DrawsFloorPOfEveryPeersRows) {
  const HaloPlan full = hand_made_plan();
  BoundarySampler sampler(full, 0.33, 5);
  const BoundarySample& s = sampler.draw(0);
  s.plan.check("sample");
  EXPECT_EQ(s.plan.rows_to(1), 33);
  EXPECT_EQ(s.plan.rows_to(2), 13);
  EXPECT_EQ(s.plan.rows_from(1), 16);
  EXPECT_EQ(s.plan.rows_from(2), 9);
  ASSERT_EQ(s.halo.size(), 25u);
  EXPECT_TRUE(std::is_sorted(s.halo.begin(), s.halo.end()));
  // Every sampled row is one the full plan sends / receives from that peer, and the scale is
  // total / drawn of its owner.
  for (int32_t j = 1; j < 3; ++j) {
    const auto first = full.send_rows.begin() + full.send_offsets[j],
               last = full.send_rows.begin() + full.send_offsets[j + 1];
    for (int64_t i = s.plan.send_offsets[j]; i < s.plan.send_offsets[j + 1]; ++i) {
      EXPECT_NE(std::find(first, last, s.plan.send_rows[i]), last);
    }
    const double scale = j == 1 ? 50.0 / 16 : 30.0 / 9;
    for (int64_t i = s.plan.recv_offsets[j]; i < s.plan.recv_offsets[j + 1]; ++i) {
      const int32_t h = s.halo[s.plan.recv_rows[i]];
      const auto from = full.recv_rows.begin() + full.recv_offsets[j],
                 to = full.recv_rows.begin() + full.recv_offsets[j + 1];
      EXPECT_NE(std::find(from, to, h), to);
      EXPECT_FLOAT_EQ(s.scale[s.plan.recv_rows[i]].item<float>(), static_cast<float>(scale));
    }
  }
}

TEST(BoundarySampler, RatesOneAndZero) {
  const HaloPlan full = hand_made_plan();
  BoundarySampler all(full, 1.0, 5);
  const BoundarySample& s = all.draw(3);
  EXPECT_EQ(s.plan.send_rows, full.send_rows);
  EXPECT_EQ(s.plan.recv_rows, full.recv_rows);
  EXPECT_EQ(s.halo.size(), 80u);
  EXPECT_FALSE(s.scale.defined());  // nothing to scale: p = 1 computes exactly the full halo
  BoundarySampler none(full, 0.0, 5);
  EXPECT_EQ(none.draw(3).plan.rows_sent(), 0);
  EXPECT_EQ(none.draw(3).plan.num_halo, 0);
  test::expect_error([&] { BoundarySampler(full, 1.5, 5); }, {"boundary rate must be in [0, 1], got 1.5"});
}

TEST(BoundarySampler, ReproducibleAndNewEveryEpoch) {
  const HaloPlan full = hand_made_plan();
  BoundarySampler a(full, 0.3, 9), b(full, 0.3, 9), other_seed(full, 0.3, 10);
  const std::vector<int32_t> epoch4 = a.draw(4).plan.send_rows;
  EXPECT_EQ(b.draw(4).plan.send_rows, epoch4);
  EXPECT_NE(a.draw(5).plan.send_rows, epoch4);
  EXPECT_NE(other_seed.draw(4).plan.send_rows, epoch4);
  EXPECT_EQ(a.draw(4).plan.send_rows, epoch4);  // drawing again gives the same sample
  EXPECT_EQ(a.positions(4, 0, 1, 100), b.positions(4, 0, 1, 100));
}

// Each of the 100 rows sent to peer 1 is in the sample with probability p: over N epochs its
// count is Binomial(N, p), checked to within 5 standard deviations.
TEST(BoundarySampler, EveryRowEquallyLikely) {
  BoundarySampler sampler(hand_made_plan(), 0.3, 1);
  const int epochs = 4000;
  std::vector<int> count(100);
  for (int e = 0; e < epochs; ++e) {
    for (int64_t p : sampler.positions(e, 0, 1, 100)) ++count[p];
  }
  const double mean = epochs * 0.3, sd = std::sqrt(epochs * 0.3 * 0.7);
  for (int i = 0; i < 100; ++i) EXPECT_LE(std::abs(count[i] - mean), 5 * sd) << "row " << i;
}

// The aggregate of a GCN layer over the sampled halo, scaled by 1 / ratio, is unbiased: over N
// draws the mean of every output element lies within 5 standard errors (from the draws'
// variance) of the full aggregate. Without the scaling the same check fails by far.
TEST(BoundarySampler, SampledAggregateIsUnbiased) {
  test::TempDir dir;
  const Dataset cora = load_dataset(test::dataset_dir("cora"));
  write_partition(cora, PartitionOptions().num_parts(4), dir.path(), "cora");
  const Shard shard = load_shard(read_partition_meta(dir.path()), 1);
  const int64_t inner = shard.num_inner(), cols = inner + shard.num_halo();
  std::vector<int64_t> ids(static_cast<size_t>(cols));
  std::iota(ids.begin(), ids.end(), 0);
  const Block block = shard_block(shard, ids);
  at::manual_seed(0);
  const at::Tensor x = at::randn({cols, 4}, at::kDouble);
  auto gcn_aggregate = [](const Block& b, const at::Tensor& h) {
    const at::Tensor norm = (b.in_degree() + 1).rsqrt().to(at::kDouble);
    AggregateOptions o;
    o.row_scale = norm.narrow(0, 0, b.num_rows());
    o.col_scale = norm;
    return aggregate(b, Loops::with, h, o);
  };
  const at::Tensor full = gcn_aggregate(block, x);

  BoundarySampler sampler(HaloPlan::from_shard(shard), 0.3, 21);
  const int draws = 3000;
  at::Tensor sum = at::zeros_like(full), sum_sq = at::zeros_like(full), unscaled = at::zeros_like(full);
  for (int e = 0; e < draws; ++e) {
    const BoundarySample& s = sampler.draw(e);
    std::vector<int32_t> columns(static_cast<size_t>(inner));
    std::iota(columns.begin(), columns.end(), 0);
    for (int32_t h : s.halo) columns.push_back(static_cast<int32_t>(inner + h));
    const Block sampled = block.keep_columns(columns);
    at::Tensor xs = x.index_select(0, at::tensor(std::vector<int64_t>(columns.begin(), columns.end()), at::kLong));
    unscaled += gcn_aggregate(sampled, xs);
    xs.narrow(0, inner, xs.size(0) - inner).mul_(s.scale.unsqueeze(1).to(at::kDouble));
    const at::Tensor y = gcn_aggregate(sampled, xs);
    sum += y;
    sum_sq += y * y;
  }
  const at::Tensor mean = sum / draws;
  const at::Tensor se = ((sum_sq / draws - mean * mean).clamp_min(0) * draws / (draws - 1) / draws).sqrt();
  const at::Tensor error = (mean - full).abs();
  const at::Tensor random = se > 1e-12;  // elements a halo neighbour feeds
  ASSERT_GT(random.sum().item<int64_t>(), full.numel() / 20) << "too few elements depend on the sample";
  EXPECT_EQ((error > 5 * se + 1e-9).sum().item<int64_t>(), 0)
      << "max error / standard error " << (error / se.clamp_min(1e-12)).masked_select(random).max().item<double>();
  const at::Tensor unscaled_z = ((unscaled / draws - full).abs() / se.clamp_min(1e-12)).masked_select(random);
  EXPECT_GT(unscaled_z.max().item<double>(), 20);
}

}  // namespace
}  // namespace halo
