// The BLAS path Halo's dense layers take (at::mm through whichever BLAS is loaded, with the
// kernel select_blas_kernel chose): products against a double-precision reference at the
// layer shapes that matter and at odd sizes, and the start-up report naming the kernel.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/blas_check.h"
#include "core/gemm.h"
#include "test_support.h"

namespace halo {
namespace {

using test::run;
using test::TempDir;

// Every combination of odd sizes, each product and its two backward products.
TEST(Blas, GemmMatchesDoubleReferenceAtOddSizes) {
  for (int64_t m : {1, 7, 33, 257})
    for (int64_t k : {1, 7, 33, 257})
      for (int64_t n : {1, 7, 33, 257}) EXPECT_TRUE(gemm_matches_reference(m, k, n)) << m << " x " << k << " x " << n;
}

// The layers' shapes: community 200k x 128 -> 256, reddit-sim's precomputed SAGE input
// 50k x 1204 -> 256, and a 256 -> 41 classifier.
TEST(Blas, GemmMatchesDoubleReferenceAtLayerShapes) {
  EXPECT_TRUE(gemm_matches_reference(200000, 128, 256));
  EXPECT_TRUE(gemm_matches_reference(50000, 1204, 256));
  EXPECT_TRUE(gemm_matches_reference(200000, 256, 41));
}

TEST(Blas, ReportNamesTheKernelItRuns) {
  const BlasReport r = blas_report();
  EXPECT_FALSE(r.library.empty());
  EXPECT_EQ(r.kernel, openblas_kernel());
  EXPECT_GT(r.gflops, 0);
  if (!r.kernel.empty()) EXPECT_NE(r.text().find(r.kernel + " kernels"), std::string::npos) << r.text();
}

// `halo` logs the kernel at start-up and puts the report in --json and in the metrics' first line.
TEST(Blas, HaloReportsTheKernelAtStartUp) {
  const TempDir dir;
  const std::string metrics = dir.path("m.jsonl"), result = dir.path("result.json");
  // stdout (the --json result) to a file, stderr (the log) collected.
  const auto log = run(
      "(" + std::string(HALO_BIN) + " train tiny --epochs 2 --json --metrics " + metrics + " >" + result + ")", true);
  ASSERT_EQ(log.code, 0) << log.out;
  const std::string kernel = openblas_kernel();
  EXPECT_NE(log.out.find("BLAS: "), std::string::npos) << log.out;
  if (!kernel.empty()) EXPECT_NE(log.out.find(kernel + " kernels"), std::string::npos) << log.out;
  const nlohmann::json blas = nlohmann::json::parse(std::ifstream(result)).at("blas");
  EXPECT_EQ(blas.at("kernel"), kernel);
  EXPECT_GT(blas.at("gflops").get<double>(), 0);
  EXPECT_EQ(blas.at("gemm"), "automatic");
  if (!onednn_automatic()) {
    EXPECT_TRUE(blas.at("onednn").is_null());
  } else {
    EXPECT_EQ(blas.at("onednn").at("version"), onednn_info().version);
    EXPECT_EQ(blas.at("onednn").at("isa"), onednn_info().isa);
    EXPECT_GT(blas.at("onednn").at("gflops").get<double>(), 0);
  }
  std::ifstream lines(metrics);
  std::string first;
  std::getline(lines, first);
  EXPECT_EQ(nlohmann::json::parse(first).at("blas").at("kernel"), kernel);
}

// A kernel the CPU cannot run (asked for through OPENBLAS_CORETYPE) is replaced by one it can.
TEST(Blas, KernelTheCpuCannotRunIsReplaced) {
  if (openblas_kernel().empty()) GTEST_SKIP() << "the loaded BLAS is not OpenBLAS";
  if (widest_kernel_for_this_cpu() == "SkylakeX") GTEST_SKIP() << "this CPU runs every kernel";
  const TempDir dir;
  const std::string result = dir.path("result.json");
  const auto log = run(
      "(OPENBLAS_CORETYPE=SkylakeX " + std::string(HALO_BIN) + " train tiny --epochs 1 --json >" + result + ")", true);
  ASSERT_EQ(log.code, 0) << log.out;
  const nlohmann::json blas = nlohmann::json::parse(std::ifstream(result)).at("blas");
  EXPECT_EQ(blas.at("kernel"), widest_kernel_for_this_cpu());
  EXPECT_EQ(blas.at("chosen_by"), "Halo");
}

}  // namespace
}  // namespace halo
