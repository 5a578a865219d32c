// The halo commands on inputs that do not belong together: more parts than the graph fills, a
// partition whose source moved or changed, a partition folder mixing shards of two
// partitionings. Each fails with a message naming the file and what was expected, never
// silently and never with a bare MPI error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

Outcome halo_in(const std::string& args, const std::string& cwd = ".") {
  return test::run("cd '" + cwd + "' && " + HALO_BIN + " " + args, true);
}

TEST(CliInputs, PartitionRefusesMorePartsThanTheGraphFills) {
  test::TempDir dir;
  setenv("HALO_DATA", HALO_TEST_DATA, 0);
  const Outcome r = halo_in("partition cora --parts 1000 -o " + dir.path("p"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--parts 1000: metis left 196 parts empty (cora of 2708 nodes: the largest part holds 5 nodes, "
                       "1.85x the mean of 2.7, against --imbalance 1.03); use fewer parts"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.path("p")));
}

TEST(CliInputs, PartitionWarnsWhenBalanceIsMissed) {
  test::TempDir dir;
  const Outcome r = halo_in("partition tiny --parts 64 -o " + dir.path("p"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(
      r.out.find("[warning] --parts 64: metis missed --imbalance 1.03 (tiny of 400 nodes: the largest part holds"),
      std::string::npos)
      << r.out;
}

// `halo igcn PARTITION_DIR` from another folder, after the partition used a relative path; then
// with the source replaced by another data set of the same counts.
TEST(CliInputs, IgcnChecksThePartitionSource) {
  test::TempDir dir;
  ASSERT_EQ(halo_in("generate tiny -o " + dir.path("data.halo")).code, 0);
  const Outcome p = halo_in("partition data.halo --parts 2 -o p", dir.path());
  ASSERT_EQ(p.code, 0) << p.out;
  std::filesystem::create_directories(dir.path("elsewhere"));
  const Outcome ok = halo_in("igcn ../p", dir.path("elsewhere"));
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("I-GCN estimate: tiny, 400 nodes"), std::string::npos) << ok.out;

  // Other features, same counts: only the hash tells.
  ASSERT_EQ(halo_in("generate tiny:snr=2 -o " + dir.path("data.halo")).code, 0);
  const Outcome changed = halo_in("igcn p", dir.path());
  EXPECT_EQ(changed.code, 1) << changed.out;
  EXPECT_NE(changed.out.find("] p/meta.json: dataset.hash is "), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("but dataset.source '" + dir.path("data.halo") + "' now has"), std::string::npos)
      << changed.out;
}

// Two random partitionings have the same part sizes; a folder holding part 1 of the other used to
// train (or crash inside MPI). Now the rank that reads it names it, and the job ends.
TEST(CliInputs, TrainRefusesAShardOfAnotherPartitioning) {
  test::TempDir dir;
  for (const char* seed : {"1", "2"}) {
    const Outcome p = halo_in(std::string("partition tiny --parts 2 --method random --seed ") + seed + " -o " +
                              dir.path(std::string("p") + seed));
    ASSERT_EQ(p.code, 0) << p.out;
  }
  std::filesystem::copy_file(dir.path("p2/part-1/shard.bin"), dir.path("p1/part-1/shard.bin"),
                             std::filesystem::copy_options::overwrite_existing);
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  const Outcome r = test::run(std::string("timeout 120 ") + HALO_MPIEXEC + " --oversubscribe -np 2 " + HALO_BIN +
                                  " train --parts " + dir.path("p1") + " --epochs 3",
                              true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(dir.path("p1/part-1/shard.bin") + ": partition id "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mixes shards of two partitionings"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MPI_ERR"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace halo
