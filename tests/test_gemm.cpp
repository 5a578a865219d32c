// Halo's products (core/gemm) on each path they take: against a double-precision reference at
// odd sizes and at the layers' shapes, accumulating, on layouts and types only at::mm takes,
// and the rule that picks the path.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/blas_check.h"
#include "core/gemm.h"
#include "test_support.h"

namespace halo {
namespace {

class GemmOnEachPath : public ::testing::TestWithParam<GemmChoice> {
 protected:
  void SetUp() override {
    if (GetParam() == GemmChoice::onednn && onednn_info().version.empty()) {
      GTEST_SKIP() << "oneDNN's sgemm is not in this process";
    }
    saved_ = gemm_choice();
    set_gemm_choice(GetParam());
  }
  void TearDown() override { set_gemm_choice(saved_); }
  GemmChoice saved_ = GemmChoice::automatic;
};

TEST_P(GemmOnEachPath, MatchesDoubleReferenceAtOddSizes) {
  for (int64_t m : {1, 7, 33, 257})
    for (int64_t k : {1, 7, 33, 257})
      for (int64_t n : {1, 7, 33, 257}) {
        EXPECT_TRUE(gemm_matches_reference(m, k, n, gemm_out)) << m << " x " << k << " x " << n;
      }
}

// Community 200k x 128 -> 256, reddit-sim's precomputed SAGE input 50k x 1204 -> 256, and a
// 256 -> 41 classifier.
TEST_P(GemmOnEachPath, MatchesDoubleReferenceAtLayerShapes) {
  EXPECT_TRUE(gemm_matches_reference(200000, 128, 256, gemm_out));
  EXPECT_TRUE(gemm_matches_reference(50000, 1204, 256, gemm_out));
  EXPECT_TRUE(gemm_matches_reference(200000, 256, 41, gemm_out));
}

// out += a b, for each form of a product (the backward's accumulate over row blocks).
TEST_P(GemmOnEachPath, AccumulateAddsTheProductToOut) {
  const at::Tensor x = at::rand({300, 41}), w = at::rand({41, 70}), dy = at::rand({300, 70});
  for (const auto& [a, b] : {std::pair{x, w}, std::pair{x.t(), dy}, std::pair{dy, w.t()}}) {
    const at::Tensor out = at::rand({a.size(0), b.size(1)});
    const at::Tensor expected = out.to(at::kDouble) + at::mm(a.to(at::kDouble), b.to(at::kDouble));
    gemm_accumulate(out, a, b);
    EXPECT_TRUE(at::allclose(out.to(at::kDouble), expected, 1e-5, 1e-5));
  }
}

// Layouts no row-major sgemm takes (a column slice with stride 2, a gradient expanded with stride
// 0) and double precision: at::mm's result, bit for bit; an out whose columns are strided (a
// transposed view): the product.
TEST_P(GemmOnEachPath, OtherLayoutsAndTypesGiveAtMmsResult) {
  const at::Tensor wide = at::rand({50, 80}), w = at::rand({40, 30});
  const at::Tensor strided = wide.slice(1, 0, 80, 2);
  at::Tensor out = at::empty({50, 30});
  gemm_out(out, strided, w);
  EXPECT_TRUE(at::equal(out, at::mm(strided, w)));
  const at::Tensor expanded = at::ones({1, 40}).expand({50, 40});
  gemm_out(out, expanded, w);
  EXPECT_TRUE(at::equal(out, at::mm(expanded, w)));
  const at::Tensor xd = at::rand({50, 40}, at::kDouble), wd = at::rand({40, 30}, at::kDouble);
  at::Tensor outd = at::empty({50, 30}, at::kDouble);
  gemm_out(outd, xd, wd);
  EXPECT_TRUE(at::equal(outd, at::mm(xd, wd)));
  at::Tensor holder = at::zeros({30, 50});
  const at::Tensor column_slice = holder.t().slice(1, 0, 30);  // [50, 30], column stride 50
  gemm_out(column_slice, strided, w);
  EXPECT_TRUE(at::allclose(column_slice, at::mm(strided, w)));
}

TEST_P(GemmOnEachPath, EmptyProducts) {
  at::Tensor out = at::full({3, 4}, 7.0f);
  gemm_out(out, at::empty({3, 0}), at::empty({0, 4}));  // a sum of nothing
  EXPECT_TRUE(at::equal(out, at::zeros({3, 4})));
  out.fill_(7.0f);
  gemm_accumulate(out, at::empty({3, 0}), at::empty({0, 4}));
  EXPECT_TRUE(at::equal(out, at::full({3, 4}, 7.0f)));
  at::Tensor none = at::empty({0, 4});
  gemm_out(none, at::empty({0, 5}), at::rand({5, 4}));
  EXPECT_EQ(none.numel(), 0);
}

TEST_P(GemmOnEachPath, MismatchedShapesAreRefused) {
  const at::Tensor out = at::empty({3, 4});
  test::expect_error(
      [&] {
        gemm_out(out, at::rand({3, 5}), at::rand({6, 4}));
      },
      {"gemm_out: out [3, 4] does not hold the product of a [3, 5] and b [6, 4]"});
  test::expect_error(
      [&] {
        gemm_accumulate(out, at::rand({3, 5}), at::rand({5, 9}));
      },
      {"gemm_accumulate: out [3, 4] does not hold the product of a [3, 5] and b [5, 9]"});
  EXPECT_EQ(out.sizes(), at::IntArrayRef({3, 4}));  // not resized
}

// An out that shares memory with an operand, whole or in part, gets the product of the operands
// as they were (at::mm_out alone would write garbage).
TEST_P(GemmOnEachPath, OutSharingMemoryWithAnOperandGetsTheProduct) {
  const at::Tensor a = at::rand({64, 64}), b = at::rand({64, 64});
  const at::Tensor ab = at::mm(a, b), a_bt = at::mm(a, b.t());
  gemm_out(a, a, b);
  EXPECT_TRUE(at::allclose(a, ab));
  const at::Tensor b_before = b.clone();
  gemm_accumulate(b, a_bt, b.t());
  EXPECT_TRUE(at::allclose(b, b_before + at::mm(a_bt, b_before.t())));
  const at::Tensor both = at::rand({64, 128});
  const at::Tensor expected = at::mm(both.narrow(1, 32, 64), b);
  gemm_out(both.narrow(1, 0, 64), both.narrow(1, 32, 64), b);
  EXPECT_TRUE(at::allclose(both.narrow(1, 0, 64), expected));
}

INSTANTIATE_TEST_SUITE_P(Gemm, GemmOnEachPath,
                         ::testing::Values(GemmChoice::automatic, GemmChoice::blas, GemmChoice::onednn),
                         [](const auto& info) { return std::string(gemm_choice_name(info.param)); });

// Automatic: oneDNN for x W and dy W^T (a row-major), the BLAS for x^T dy.
TEST(Gemm, TheRuleSendsOnlyWeightGradientsToTheBlas) {
  if (!onednn_automatic()) GTEST_SKIP() << "the automatic choice does not use oneDNN here";
  ASSERT_EQ(gemm_choice(), GemmChoice::automatic);
  const at::Tensor x = at::rand({100, 256}), w = at::rand({256, 41}), dy = at::rand({100, 41});
  EXPECT_EQ(gemm_path(x, w, at::empty({100, 41})), GemmPath::onednn);
  EXPECT_EQ(gemm_path(dy, w.t(), at::empty({100, 256})), GemmPath::onednn);
  EXPECT_EQ(gemm_path(x.t(), dy, at::empty({256, 41})), GemmPath::blas);
  EXPECT_EQ(gemm_path(dy.to(at::kDouble), w.t().to(at::kDouble), at::empty({100, 256}, at::kDouble)), GemmPath::blas);
}

// On oneDNN a row of x W and of dy W^T has the same bits whichever rows surround it and wherever
// it sits: what K ranks need to compute their rows as one process does.
TEST(Gemm, OneDnnRowsDoNotDependOnTheOtherRows) {
  if (!onednn_automatic()) GTEST_SKIP() << "the automatic choice does not use oneDNN here";
  ASSERT_EQ(gemm_choice(), GemmChoice::automatic);
  for (const int64_t k : {16, 602})
    for (const int64_t n : {41, 256}) {
      const at::Tensor x = at::randn({3000, k}), w = at::randn({k, n}), wt = at::randn({n, k});
      const at::Tensor all = at::empty({3000, n}), all_t = at::empty({3000, n});
      gemm_out(all, x, w);
      gemm_out(all_t, x, wt.t());
      for (const int64_t first : {0, 1, 13, 777})
        for (const int64_t rows : {1, 47, 97, 1001, 2000}) {
          const at::Tensor part = x.narrow(0, first, rows).contiguous(), out = at::empty({rows, n});
          gemm_out(out, part, w);
          EXPECT_TRUE(at::equal(out, all.narrow(0, first, rows))) << k << " " << n << " " << first << " " << rows;
          gemm_out(out, part, wt.t());
          EXPECT_TRUE(at::equal(out, all_t.narrow(0, first, rows))) << k << " " << n << " " << first << " " << rows;
        }
    }
}

// HALO_GEMM forces a path and the start-up report says which; an unknown value is named.
TEST(Gemm, HaloGemmChoosesThePathAndTheReportSaysIt) {
  const auto forced = test::run("HALO_GEMM=blas " + std::string(HALO_BIN) + " train tiny --epochs 1", true);
  ASSERT_EQ(forced.code, 0) << forced.out;
  EXPECT_NE(forced.out.find("Halo's products on it (HALO_GEMM=blas)"), std::string::npos) << forced.out;
  const auto bad = test::run("HALO_GEMM=fastest " + std::string(HALO_BIN) + " train tiny --epochs 1", true);
  ASSERT_EQ(bad.code, 0) << bad.out;
  EXPECT_NE(bad.out.find("HALO_GEMM=fastest is none of auto, blas, onednn"), std::string::npos) << bad.out;
  // oneDNN held to kernels whose row independence was not measured: every product on the BLAS.
  const auto sse41 = test::run("DNNL_MAX_CPU_ISA=SSE41 " + std::string(HALO_BIN) + " train tiny --epochs 1", true);
  ASSERT_EQ(sse41.code, 0) << sse41.out;
  EXPECT_NE(sse41.out.find("Halo's products on it (oneDNN not used)"), std::string::npos) << sse41.out;
  if (!onednn_automatic()) return;
  const auto automatic = test::run(std::string(HALO_BIN) + " train tiny --epochs 1", true);
  EXPECT_NE(automatic.out.find("Halo's products: oneDNN " + onednn_info().version + " sgemm (" + onednn_info().isa),
            std::string::npos)
      << automatic.out;
}

}  // namespace
}  // namespace halo
