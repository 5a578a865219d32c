// `mpirun -np K halo train --parts DIR` end to end: the same result as one process, a clear
// error for the wrong number of ranks, and a silent or killed peer that fails the job instead of
// hanging it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

using test::halo;

Outcome mpirun(int ranks, const std::string& args) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  return test::run(
      std::string(HALO_MPIEXEC) + " --oversubscribe -np " + std::to_string(ranks) + " " + HALO_BIN + " " + args, true);
}

// The --json line of a command's output.
nlohmann::json result_of(const Outcome& r) {
  const size_t start = r.out.rfind("\n{");
  return nlohmann::json::parse(r.out.substr(start == std::string::npos ? r.out.find('{') : start + 1));
}

class DistributedCli : public testing::Test {
 protected:
  void SetUp() override {
    const Outcome p = halo("partition tiny --parts 2 -o " + dir_.path("parts"), true);
    ASSERT_EQ(p.code, 0) << p.out;
  }
  std::string parts() const { return dir_.path("parts"); }
  test::TempDir dir_;
};

TEST_F(DistributedCli, TwoRanksGiveTheOneProcessResult) {
  const std::string flags = " --epochs 12 --eval-every 4 --seed 5 --json";
  const Outcome one = halo("train tiny" + flags, true);
  ASSERT_EQ(one.code, 0) << one.out;
  const std::string metrics = dir_.path("metrics.jsonl");
  const Outcome two = mpirun(2, "train --parts " + parts() + flags + " --check-replicas --metrics " + metrics);
  ASSERT_EQ(two.code, 0) << two.out;
  const nlohmann::json a = result_of(one), b = result_of(two);
  EXPECT_NEAR(b["final_loss"].get<double>(), a["final_loss"].get<double>(), 1e-5 * a["final_loss"].get<double>());
  EXPECT_EQ(b["best_epoch"], a["best_epoch"]);
  EXPECT_EQ(b["test_acc_at_best_val"], a["test_acc_at_best_val"]);
  EXPECT_EQ(b["ranks"], 2);
  // Rank 0 writes one line per epoch with the spread over ranks.
  std::ifstream in(metrics);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const nlohmann::json m = nlohmann::json::parse(line);
    EXPECT_EQ(m["ranks"], 2);
    EXPECT_GT(m["bytes_sent"].get<double>(), 0);
    EXPECT_GE(m["epoch_seconds"].get<double>(), m["epoch_seconds_mean"].get<double>());
    ++lines;
  }
  EXPECT_EQ(lines, 12);
}

TEST_F(DistributedCli, WrongNumberOfRanksIsAUsageError) {
  const Outcome r = mpirun(3, "train --parts " + parts() + " --epochs 1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("has 2 parts but the job has 3 ranks: run mpirun -np 2"), std::string::npos) << r.out;
}

TEST_F(DistributedCli, SilentPeerFailsTheJob) {
  const auto start = std::chrono::steady_clock::now();
  const Outcome r = mpirun(2, "train --parts " + parts() + " --epochs 10 --deadline 2 --inject-stall 1:3");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("rank 0: rank 1 did not reach the exchange within 2 s (epoch 3, layer 1 features); rank 0 is "
                       "waiting"),
            std::string::npos)
      << r.out;
  EXPECT_LT(seconds, 60);
}

// The end of a job whose rank 1 was killed with kill -9.
struct Killed {
  Outcome outcome;  // the job's output
  int code = 0;     // its exit code
  long ms = 0;      // how long it took to end after the kill
};

// Starts `flags` under mpirun on 2 ranks with --metrics `metrics`, waits for `epochs` lines of
// metrics, kills the process whose OMPI_COMM_WORLD_RANK is 1 and times the rest of the job.
Killed kill_rank_one(const test::TempDir& dir, const std::string& metrics, int epochs, const std::string& flags) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  const std::string script = dir.write("kill.sh", R"sh(metrics=$1 epochs=$2; shift 2
"$@" >"$metrics.out" 2>&1 & job=$!
for i in $(seq 600); do [ "$(wc -l <"$metrics" 2>/dev/null || echo 0)" -ge "$epochs" ] && break; sleep 0.1; done
for p in $(pgrep -f -- "--metrics $metrics"); do
  if tr '\0' '\n' <"/proc/$p/environ" | grep -qx OMPI_COMM_WORLD_RANK=1; then kill -9 "$p"; fi
done
start=$(date +%s%N); wait $job; code=$?; end=$(date +%s%N)
cat "$metrics.out"; echo "exit $code after $(( (end - start) / 1000000 )) ms"
)sh");
  Killed k;
  k.outcome =
      test::run("bash " + script + " " + metrics + " " + std::to_string(epochs) + " timeout 120 " + HALO_MPIEXEC +
                    " --oversubscribe -np 2 " + HALO_BIN + " train " + flags + " --metrics " + metrics,
                true);
  const size_t at = k.outcome.out.rfind("exit ");
  if (at == std::string::npos || std::sscanf(k.outcome.out.c_str() + at, "exit %d after %ld ms", &k.code, &k.ms) != 2) {
    ADD_FAILURE() << "the kill script did not finish: " << k.outcome.out;
  }
  return k;
}

std::vector<double> losses_in(const std::string& metrics) {
  std::ifstream in(metrics);
  std::vector<double> losses;
  for (std::string line; std::getline(in, line);) losses.push_back(nlohmann::json::parse(line)["loss"]);
  return losses;
}

// kill -9 of one rank mid-training (with and without the pipeline): the job exits non-zero within
// 30 s, and the output names the lost rank.
TEST_F(DistributedCli, KilledRankEndsTheJob) {
  for (const std::string mode : {"", " --pipeline"}) {
    const Killed k = kill_rank_one(dir_, dir_.path(mode.empty() ? "killed.jsonl" : "killed-pipeline.jsonl"), 3,
                                   "--parts " + parts() + " --epochs 100000000" + mode);
    EXPECT_NE(k.code, 0) << mode << k.outcome.out;
    EXPECT_NE(k.code, 124) << mode << ": the job hung\n" << k.outcome.out;
    EXPECT_LT(k.ms, 30000) << mode << k.outcome.out;
    // OpenMPI's mpirun names it: "process rank 1 ... exited on signal 9 (Killed)".
    EXPECT_NE(k.outcome.out.find("rank 1"), std::string::npos) << mode << k.outcome.out;
    EXPECT_NE(k.outcome.out.find("signal 9"), std::string::npos) << mode << k.outcome.out;
    std::printf("killed rank 1%s: the job ended with exit %d after %.1f s\n", mode.c_str(), k.code, k.ms / 1000.0);
  }
}

// A job killed mid-epoch and resumed from its last checkpoint gives the uninterrupted job's
// losses bit for bit, with and without the pipeline. Rank 1 stalls at epoch 10 (checkpoints at
// 4 and 8 are written) and is killed there; the resumed job continues from epoch 8.
TEST_F(DistributedCli, KilledJobResumesBitForBit) {
  for (const std::string mode : {"", " --pipeline --boundary-rate 0.5 --smooth-features --smooth-gradients"}) {
    const std::string run = "--parts " + parts() + " --epochs 16 --seed 3 --deadline 60" + mode;
    const std::string whole = dir_.path("whole.jsonl"), killed = dir_.path("killed.jsonl");
    const std::string resumed = dir_.path("resumed.jsonl"), checkpoint = dir_.path("checkpoint");
    ASSERT_EQ(mpirun(2, "train " + run + " --metrics " + whole).code, 0);
    const Killed k = kill_rank_one(dir_, killed, 10,
                                   run + " --checkpoint " + checkpoint + " --checkpoint-every 4 --inject-stall 1:10");
    ASSERT_NE(k.code, 0) << k.outcome.out;
    const Outcome r = mpirun(2, "train " + run + " --checkpoint " + checkpoint + " --resume --metrics " + resumed);
    ASSERT_EQ(r.code, 0) << r.out;
    const std::vector<double> all = losses_in(whole), rest = losses_in(resumed);
    ASSERT_EQ(all.size(), 16u);
    ASSERT_EQ(rest.size(), 8u) << "expected to resume at epoch 8";
    for (size_t e = 0; e < rest.size(); ++e) EXPECT_EQ(rest[e], all[8 + e]) << mode << ", epoch " << 8 + e;
    std::filesystem::remove_all(checkpoint);
    for (const std::string& f : {whole, killed, resumed}) std::remove(f.c_str());
  }
}

// The pipeline leaves nothing behind: with its progress thread and messages in flight, a run
// ends with exit 0 and a run whose peer stalls fails with the deadline error -- never a hang or
// "terminate called".
TEST_F(DistributedCli, PipelineExitsCleanly) {
  const std::string metrics = dir_.path("metrics.jsonl");
  const Outcome done =
      mpirun(2, "train --parts " + parts() + " --epochs 6 --pipeline --boundary-rate 0.5 --smooth-features --metrics " +
                    metrics);
  EXPECT_EQ(done.code, 0) << done.out;
  EXPECT_EQ(done.out.find("terminate"), std::string::npos) << done.out;
  std::ifstream in(metrics);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const nlohmann::json m = nlohmann::json::parse(line);
    EXPECT_GE(m["total_comm_seconds"].get<double>(), 0);
    EXPECT_GE(m["exposed_comm_seconds"].get<double>(), 0);
    ++lines;
  }
  EXPECT_EQ(lines, 6);
  const Outcome stalled =
      mpirun(2, "train --parts " + parts() + " --epochs 10 --pipeline --deadline 2 --inject-stall 1:3");
  EXPECT_NE(stalled.code, 0);
  // Stale rows need no peer, so the first wait to time out is the gradient allreduce.
  EXPECT_NE(stalled.out.find(
                "rank 0: rank 1 did not reach allreduce within 2 s (epoch 3, weight gradients); rank 0 is waiting"),
            std::string::npos)
      << stalled.out;
  EXPECT_EQ(stalled.out.find("terminate"), std::string::npos) << stalled.out;
}

// Rank k of 3 stops at an epoch (in the exchange, or with the pipeline in the allreduce): the job
// exits 1, and every rank that reports the deadline names rank k, and only it.
TEST_F(DistributedCli, EveryRankNamesTheStoppedRank) {
  const std::string three = dir_.path("parts3");
  ASSERT_EQ(halo("partition tiny --parts 3 -o " + three, true).code, 0);
  struct Stop {
    int rank, epoch;
    std::string mode;
  };
  for (const Stop& stop :
       {Stop{0, 1, ""}, Stop{1, 3, ""}, Stop{2, 2, ""}, Stop{2, 4, " --pipeline"}, Stop{0, 2, " --pipeline"}}) {
    const std::string where =
        "rank " + std::to_string(stop.rank) + " at epoch " + std::to_string(stop.epoch) + stop.mode;
    const Outcome r = mpirun(3, "train --parts " + three + " --epochs 10 --deadline 1 --inject-stall " +
                                    std::to_string(stop.rank) + ":" + std::to_string(stop.epoch) + stop.mode);
    EXPECT_EQ(r.code, 1) << where << "\n" << r.out;
    const std::string named = "rank " + std::to_string(stop.rank) + " did not reach ";
    const int first = stop.rank == 0 ? 1 : 0, second = stop.rank == 2 ? 1 : 2;  // the other two
    const std::string waiting = "; ranks " + std::to_string(first) + ", " + std::to_string(second) + " are waiting";
    int reports = 0;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("within 1 s") == std::string::npos) continue;
      ++reports;
      EXPECT_NE(line.find(named), std::string::npos) << where << ": " << line;
      EXPECT_NE(line.find(waiting), std::string::npos) << where << ": " << line;
      EXPECT_EQ(line.find("rank " + std::to_string(stop.rank) + ":"), std::string::npos) << where << ": " << line;
    }
    EXPECT_GE(reports, 1) << where << "\n" << r.out;
  }
}

}  // namespace
}  // namespace halo
