// PipeGCN's StaleExchange on K ranks (DESIGN rule 5): halo rows and halo gradients are exactly
// one epoch old (the first epoch synchronous), also under boundary sampling, and pipelined
// training is deterministic and learns as well as the synchronous one.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "core/resources.h"
#include "distributed_support.h"
#include "partition/partition_dir.h"
#include "pipeline/stale_exchange.h"

namespace halo {
namespace {

using test::kGcn;
using test::partition_for_ranks;
using test::SharedDir;
using test::train_parts;

// Inner rows of epoch t: distinct per rank, row, column and epoch.
at::Tensor inner_rows(const Shard& shard, int64_t epoch) {
  const at::Tensor ids =
      at::tensor(std::vector<int64_t>(shard.inner_original_ids.begin(), shard.inner_original_ids.end()), at::kDouble);
  return (ids.unsqueeze(1) * 10 + at::arange(3, at::kDouble)) * 1000 + static_cast<double>(epoch);
}

// Every epoch: y = fill(x_t), loss = <y, w_t>. A synchronous HaloExchange (through the same
// sample) gives the expected rows: epoch t's halo rows are bcast(x_{t-1}) and the gradient of
// x_t is w_t's inner part plus reduce(w_{t-1}'s halo part), both with epoch 0's in epoch 0 and 1.
void check_staleness(double rate, bool progress_thread = true) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, "community:nodes=3000", dir.path());
  const Shard shard = load_shard(read_partition_meta(dir.path()), comm->rank());
  const HaloPlan full = HaloPlan::from_shard(shard);
  const BoundarySampler sampler(full, rate, 5);
  StaleExchange stale(full, comm, rate < 1 ? &sampler : nullptr, StaleOptions().progress_thread(progress_thread));
  const int64_t n = full.num_inner;
  at::Tensor expected_rows, expected_grad;  // from the previous epoch
  for (int64_t t = 0; t < 5; ++t) {
    const BoundarySample sample = sampler.draw(t);
    HaloExchange reference(sample.plan, comm);
    stale.begin_epoch(t);
    const at::Tensor x = inner_rows(shard, t).requires_grad_(true);
    const at::Tensor scale = rate < 1 ? sample.scale : at::Tensor();
    const at::Tensor y = stale.fill(x, 1, scale, "test");
    const at::Tensor w = at::randn({y.size(0), 3}, at::kDouble);
    (y * w).sum().backward();

    // The rows and gradients a synchronous exchange would give for this epoch's values.
    at::Tensor rows_now = reference.bcast(x.detach(), 7, "reference rows");
    at::Tensor halo_grad = w.narrow(0, n, w.size(0) - n);
    if (scale.defined()) {
      rows_now = rows_now * scale.unsqueeze(1).to(at::kDouble);
      halo_grad = halo_grad * scale.unsqueeze(1).to(at::kDouble);
    }
    at::Tensor reduced_now = at::zeros({n, 3}, at::kDouble);
    reference.reduce(halo_grad.contiguous(), reduced_now, 7, "reference gradients");
    // Rows of epoch t - 1 for epoch t's sample: the inner values of t - 1 sent through this plan.
    if (t > 0) {
      expected_rows = reference.bcast(inner_rows(shard, t - 1), 7, "reference stale rows");
      if (scale.defined()) expected_rows = expected_rows * scale.unsqueeze(1).to(at::kDouble);
    } else {
      expected_rows = rows_now;
    }
    EXPECT_TRUE(y.detach().narrow(0, n, y.size(0) - n).equal(expected_rows)) << "rows, epoch " << t;
    if (t == 0) expected_grad = reduced_now;  // epoch 0 is synchronous, and serves epoch 1
    EXPECT_TRUE(x.grad().allclose(w.narrow(0, 0, n) + expected_grad, 0, 1e-9)) << "gradients, epoch " << t;
    if (t > 0) expected_grad = reduced_now;  // what epoch t + 1 gets
  }
  stale.drain();
}

// Feature smoothing under sampling: each halo node's average takes in that node's stale rows
// only, in the epochs that sample it, whatever other nodes the samples hold.
TEST(PipelineRanks, SmoothedRowsAverageEachHaloNodesOwnRows) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, "community:nodes=3000", dir.path());
  const Shard shard = load_shard(read_partition_meta(dir.path()), comm->rank());
  const HaloPlan full = HaloPlan::from_shard(shard);
  const BoundarySampler sampler(full, 0.5, 5);
  const double g = 0.5;
  StaleExchange stale(full, comm, &sampler, StaleOptions().smooth_features(true).gamma(g));
  at::Tensor average = at::zeros({full.num_halo, 3}, at::kDouble);
  std::vector<bool> seen(static_cast<size_t>(full.num_halo), false);
  for (int64_t t = 0; t < 6; ++t) {
    const BoundarySample sample = sampler.draw(t);
    HaloExchange reference(sample.plan, comm);
    stale.begin_epoch(t);
    const at::Tensor y = stale.fill(inner_rows(shard, t), 1, at::Tensor(), "test");
    const at::Tensor rows = reference.bcast(inner_rows(shard, std::max<int64_t>(t - 1, 0)), 7, "reference rows");
    at::Tensor expected = at::empty_like(rows);
    for (size_t i = 0; i < sample.halo.size(); ++i) {
      const int64_t h = sample.halo[i];
      const at::Tensor next = seen[h] ? average[h] * g + rows[i] * (1 - g) : rows[i];
      average[h] = next;
      expected[i] = next;
      seen[h] = true;
    }
    EXPECT_TRUE(y.narrow(0, full.num_inner, y.size(0) - full.num_inner).allclose(expected, 0, 1e-9)) << "epoch " << t;
  }
  stale.drain();
}

TEST(PipelineRanks, HaloRowsAndGradientsAreOneEpochOld) { check_staleness(1.0); }
TEST(PipelineRanks, SampledRowsAreOneEpochOldForTheCurrentSample) { check_staleness(0.5); }
TEST(PipelineRanks, OneEpochOldWithoutAProgressThread) { check_staleness(0.5, false); }

TEST(PipelineRanks, SameSeedSameLosses) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, "community:nodes=3000", dir.path());
  const TrainerOptions to =
      TrainerOptions().epochs(8).seed(4).boundary_rate(0.5).pipeline(StaleOptions().smooth_features(true));
  const TrainResult a = train_parts(comm, dir.path(), kGcn, to), b = train_parts(comm, dir.path(), kGcn, to);
  for (size_t e = 0; e < a.epochs.size(); ++e) EXPECT_EQ(a.epochs[e].loss, b.epochs[e].loss) << "epoch " << e;
}

// Checkpoint and resume with every strategy (sampled, sampled and pipelined with smoothing,
// sampled and overlapped, the last two with int8 messages): a run that stops after its checkpoint at epoch 7 and is
// resumed by a new Trainer gives the losses of the uninterrupted run bit for bit -- the pipeline's stale rows and
// gradients travel in the checkpoint.
TEST(PipelineRanks, ResumedRunMatchesUninterruptedRun) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm), checkpoints(*comm);
  partition_for_ranks(*comm, "community:nodes=3000", dir.path());
  const TrainerOptions to = TrainerOptions().epochs(12).seed(4).boundary_rate(0.5);
  const StaleOptions smooth = StaleOptions().smooth_features(true).smooth_gradients(true);
  const HaloPrecision int8 = HaloPrecision::int8;
  for (const auto& [name, options] : {std::pair{"sampled", to},
                                      {"pipelined", TrainerOptions(to).pipeline(smooth)},
                                      {"overlapped", TrainerOptions(to).overlap(true)},
                                      {"pipelined_int8", TrainerOptions(to).pipeline(smooth).halo_precision(int8)},
                                      {"overlapped_int8", TrainerOptions(to).overlap(true).halo_precision(int8)}}) {
    const TrainResult whole = train_parts(comm, dir.path(), kGcn, options);
    const std::string ckpt = checkpoints.path() + "/" + name;
    train_parts(comm, dir.path(), kGcn, TrainerOptions(options).epochs(7).checkpoint_dir(ckpt));
    const TrainResult rest =
        train_parts(comm, dir.path(), kGcn, TrainerOptions(options).checkpoint_dir(ckpt), false, true);
    ASSERT_EQ(rest.epochs.size(), 5u);
    for (size_t e = 0; e < rest.epochs.size(); ++e) {
      EXPECT_EQ(rest.epochs[e].loss, whole.epochs[7 + e].loss) << name << ", epoch " << 7 + e;
    }
  }
}

// No per-epoch growth of memory: resident memory after 20 epochs of sampled, smoothed pipelined
// training and after 100 more. A buffer kept per epoch would add at least one exchange's rows
// (hundreds of 64-wide halo rows) every epoch, megabytes over 100 epochs.
TEST(PipelineRanks, MemoryDoesNotGrowWithEpochs) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer keeps freed blocks in quarantine (up to 256 MiB): resident memory grows by design";
#endif
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, "community:nodes=3000", dir.path());
  std::vector<int64_t> rss;
  const StaleOptions smooth = StaleOptions().smooth_features(true).smooth_gradients(true);
  const TrainerOptions to = TrainerOptions().epochs(120).seed(4).boundary_rate(0.5).pipeline(smooth).before_epoch(
      [&](int64_t) { rss.push_back(current_rss_bytes()); });
  train_parts(comm, dir.path(), ModelOptions(kGcn).hidden(64), to);
  ASSERT_EQ(rss.size(), 120u);
  std::printf("rank %d: resident %.2f MiB at epoch 20, %.2f MiB at epoch 119\n", comm->rank(), rss[20] / 1048576.0,
              rss.back() / 1048576.0);
  EXPECT_LT(rss.back() - rss[20], int64_t{4} << 20) << "rank " << comm->rank();
}

// DESIGN rule 5 on real data: Kipf's GCN setup on 4 METIS parts, mean test accuracy over 5
// seeds with the pipeline (p = 1 and p = 0.1, with and without smoothing) within 1 point of the
// synchronous full-halo run.
class PipelineAccuracy : public testing::TestWithParam<std::string> {};

TEST_P(PipelineAccuracy, StaleTrainingMatchesSynchronous) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, GetParam(), dir.path());
  const double synchronous = test::mean_gcn_accuracy(comm, dir.path(), TrainerOptions());
  const StaleOptions smooth = StaleOptions().smooth_features(true).smooth_gradients(true);
  for (double rate : {1.0, 0.1}) {
    for (const StaleOptions& stale : {StaleOptions(), smooth}) {
      const double piped =
          test::mean_gcn_accuracy(comm, dir.path(), TrainerOptions().boundary_rate(rate).pipeline(stale));
      if (comm->rank() == 0) {
        std::printf("%s GCN on %d ranks, mean of 5 seeds: synchronous %.2f%%, pipelined p = %.1f%s %.2f%%\n",
                    GetParam().c_str(), comm->size(), synchronous, rate, stale.smooth_features() ? " smoothed" : "",
                    piped);
      }
      EXPECT_NEAR(piped, synchronous, 1.0) << "p = " << rate << (stale.smooth_features() ? ", smoothed" : "");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Real, PipelineAccuracy, testing::Values("cora", "coauthor-cs"), [](const auto& info) {
  return info.param == "cora" ? std::string("cora") : std::string("coauthor_cs");
});

}  // namespace
}  // namespace halo
