// The graph kernels (gcn/kernels/) against their plain references, on every instruction set level
// this CPU runs, and the differentiable ops of gcn/graph_ops.h against central finite differences;
// keyed dropout's mask and the determinism every kernel promises (same bits on 1 or 2 threads,
// run after run, at every level).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gcn/graph_ops.h"
#include "gcn/kernels/edge_add.h"
#include "gcn/kernels/edge_softmax.h"
#include "gcn/kernels/isa.h"
#include "gcn/kernels/keyed_dropout.h"
#include "gcn/kernels/row_partition.h"
#include "gcn/kernels/sddmm.h"
#include "gcn/kernels/sparse_rows.h"
#include "gcn/kernels/spmm.h"
#include "gcn/sparse_features.h"
#include "random_blocks.h"
#include "test_support.h"

namespace halo {
namespace {

using test::Diagonal;
using test::random_block;
using test::random_csr;

using kernels::edge_id;
using kernels::Isa;

constexpr int64_t kWidths[] = {1, 7, 8, 9, 31, 32, 33, 257};
constexpr int64_t kHeads[] = {1, 3};

// ---- random graphs ------------------------------------------------------------------------

struct Shape {
  int64_t rows, cols;
  Diagonal diagonal;
};
// Empty, tiny, square with and without self-loops, parts with halo columns, and a row of 3,000.
const Shape kShapes[] = {{0, 0, Diagonal::absent},    {0, 4, Diagonal::absent},    {1, 1, Diagonal::present},
                         {13, 13, Diagonal::absent},  {13, 13, Diagonal::present}, {29, 45, Diagonal::random},
                         {40, 57, Diagonal::present}, {4, 3000, Diagonal::absent}};

template <class T>
std::vector<T> random_values(int64_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

template <class T>
// `terms`: the most terms in one sum; float's rounding error grows with it.
void expect_close(const std::vector<T>& got, const std::vector<T>& want, const std::string& what, int64_t terms = 64) {
  const double tol = tolerance<T>() * std::max<double>(1, static_cast<double>(terms) / 64);
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(double(want[i])))) << what << " at " << i;
  }
}

template <class T>
T* data_or_null(std::vector<T>& v, bool use) {
  return use ? v.data() : nullptr;
}

// ---- instruction set levels ---------------------------------------------------------------

// The kernels run `isa` while this is in scope.
class ForcedIsa {
 public:
  explicit ForcedIsa(Isa isa) : before_(kernels::kernel_isa()) { kernels::set_kernel_isa(isa); }
  ~ForcedIsa() { kernels::set_kernel_isa(before_); }
  ForcedIsa(const ForcedIsa&) = delete;
  ForcedIsa& operator=(const ForcedIsa&) = delete;

 private:
  Isa before_;
};

// A test run once per level (named after it), skipped where this CPU lacks the level.
class OnEachIsa : public testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (GetParam() > kernels::cpu_isa()) GTEST_SKIP() << "this CPU lacks " << kernels::isa_name(GetParam());
    forced_.emplace(GetParam());
  }

 private:
  std::optional<ForcedIsa> forced_;
};
std::string isa_param_name(const testing::TestParamInfo<Isa>& info) { return kernels::isa_name(info.param); }

TEST(Kernels, NeverRunAnIsaTheCpuLacks) {
  const ForcedIsa widest(Isa::avx512);
  EXPECT_EQ(kernels::kernel_isa(), kernels::cpu_isa());
}

// ---- kernels against references -----------------------------------------------------------

TEST(Kernels, RowPartitionCoversEveryRowOnce) {
  // One row of 50,000 entries among 3,000 small ones.
  Csr a;
  a.cols = 60000;
  for (int64_t v = 0; v < 3000; ++v) {
    const int64_t degree = v == 1234 ? 50000 : v % 7;
    for (int64_t i = 0; i < degree; ++i) a.indices.push_back(static_cast<int32_t>(i));
    a.offsets.push_back(static_cast<int64_t>(a.indices.size()));
  }
  std::vector<std::atomic<int>> seen(a.rows());
  for (int64_t work : {1, 64}) {
    for (auto& s : seen) s = 0;
    kernels::parallel_rows(a.view(), work, [&](int64_t first, int64_t last) {
      ASSERT_LT(first, last);
      for (int64_t v = first; v < last; ++v) ++seen[v];
    });
    for (int64_t v = 0; v < a.rows(); ++v) ASSERT_EQ(seen[v], 1) << "row " << v;
  }
}

int64_t longest_row(const Csr& a) {
  int64_t most = 0;
  for (int64_t v = 0; v < a.rows(); ++v) most = std::max(most, a.offsets[v + 1] - a.offsets[v]);
  return most;
}

template <class T>
void check_spmm(const Csr& a, uint64_t seed) {
  const Csr at = a.transposed();
  const int64_t terms = std::max(longest_row(a), longest_row(at));
  int variant = 0;
  for (int64_t F : kWidths) {
    for (int64_t H : kHeads) {
      // Cycle through the optional inputs so every combination meets several widths.
      const bool use_w = variant & 1, use_r = variant & 2, use_c = variant & 4, use_b = variant & 8;
      const bool relu = (variant / 3) % 2 == 1;
      ++variant;
      if (!use_w && H != 1) continue;
      auto x = random_values<T>(a.cols * H * F, seed + 1);
      auto w = random_values<T>(a.nnz() * H, seed + 2);
      auto r = random_values<T>(a.rows(), seed + 3, 0.1, 2);
      auto c = random_values<T>(a.cols, seed + 4, 0.1, 2);
      auto b = random_values<T>(H * F, seed + 5);
      kernels::SpmmArgs<T> args;
      args.a = a.view();
      args.heads = H;
      args.width = F;
      args.x = x.data();
      args.w = data_or_null(w, use_w);
      args.row_scale = data_or_null(r, use_r);
      args.col_scale = data_or_null(c, use_c);
      args.bias = data_or_null(b, use_b);
      args.relu = relu;
      std::vector<T> fast(a.rows() * H * F, T(-7)), slow(fast.size());
      args.y = fast.data();
      kernels::spmm(args);
      args.y = slow.data();
      kernels::spmm_reference(args);
      const std::string what =
          "spmm F=" + std::to_string(F) + " H=" + std::to_string(H) + " variant " + std::to_string(variant - 1);
      expect_close(fast, slow, what, terms);

      // The transpose, whose edge_ids reach w: the backward pass w.r.t. x.
      auto dy = random_values<T>(a.rows() * H * F, seed + 6);
      kernels::SpmmArgs<T> back;
      back.a = at.view();
      back.heads = H;
      back.width = F;
      back.x = dy.data();
      back.w = data_or_null(w, use_w);
      back.row_scale = data_or_null(c, use_c);
      back.col_scale = data_or_null(r, use_r);
      std::vector<T> dx(a.cols * H * F), dx_ref(dx.size());
      back.y = dx.data();
      kernels::spmm(back);
      back.y = dx_ref.data();
      kernels::spmm_reference(back);
      expect_close(dx, dx_ref, what + " (transpose)", terms);
      // Adjointness without the epilogue: <A x, dy> = <x, A^T dy>.
      if (!use_b && !relu) {
        double lhs = 0, rhs = 0;
        for (size_t i = 0; i < slow.size(); ++i) lhs += double(slow[i]) * dy[i];
        for (size_t i = 0; i < dx_ref.size(); ++i) rhs += double(dx_ref[i]) * x[i];
        EXPECT_NEAR(lhs, rhs, 1e-3 * (1 + std::abs(lhs))) << what;
      }
    }
  }
}

using SpmmKernel = OnEachIsa;
TEST_P(SpmmKernel, MatchesReference) {
  uint64_t seed = 10;
  for (const Shape& s : kShapes) {
    const Csr a = random_csr(s.rows, s.cols, s.diagonal, ++seed);
    check_spmm<float>(a, seed * 100);
    check_spmm<double>(a, seed * 100);
  }
}

INSTANTIATE_TEST_SUITE_P(, SpmmKernel, testing::ValuesIn(kernels::kIsas), isa_param_name);

// SDDMM at every width, with and without scales.
template <class T>
void check_sddmm(const Csr& a, uint64_t seed) {
  for (int64_t H : kHeads) {
    for (int64_t F : kWidths) {
      auto dy = random_values<T>(a.rows() * H * F, seed + F);
      auto x = random_values<T>(a.cols * H * F, seed + 2 * F);
      auto r = random_values<T>(a.rows(), seed + 3);
      auto c = random_values<T>(a.cols, seed + 4);
      kernels::SddmmArgs<T> args;
      args.a = a.view();
      args.heads = H;
      args.width = F;
      args.dy = dy.data();
      args.x = x.data();
      args.row_scale = data_or_null(r, F % 2 == 1);
      args.col_scale = data_or_null(c, F % 3 == 1);
      std::vector<T> fast(a.nnz() * H), slow(fast.size());
      args.dw = fast.data();
      kernels::sddmm(args);
      args.dw = slow.data();
      kernels::sddmm_reference(args);
      expect_close(fast, slow, "sddmm F=" + std::to_string(F) + " H=" + std::to_string(H));
    }
  }
}

using SddmmKernel = OnEachIsa;
TEST_P(SddmmKernel, MatchesReference) {
  uint64_t seed = 50;
  for (const Shape& s : kShapes) {
    const Csr a = random_csr(s.rows, s.cols, s.diagonal, ++seed);
    check_sddmm<float>(a, seed * 1000);
    check_sddmm<double>(a, seed * 1000);
  }
}
INSTANTIATE_TEST_SUITE_P(, SddmmKernel, testing::ValuesIn(kernels::kIsas), isa_param_name);

template <class T>
void check_edge_kernels(const Csr& a, uint64_t seed) {
  const Csr at = a.transposed();
  const int64_t terms = std::max(longest_row(a), longest_row(at));
  for (int64_t H : kHeads) {
    // edge_add and its two row sums (over A, and over A^T through edge_ids).
    auto d = random_values<T>(a.rows() * H, seed + 5);
    auto src = random_values<T>(a.cols * H, seed + 6);
    std::vector<T> s(a.nnz() * H), s_ref(s.size());
    kernels::edge_add(a.view(), H, d.data(), src.data(), s.data());
    kernels::edge_add_reference(a.view(), H, d.data(), src.data(), s_ref.data());
    expect_close(s, s_ref, "edge_add");
    auto ds = random_values<T>(a.nnz() * H, seed + 7);
    for (const Csr* m : {&a, &at}) {
      std::vector<T> sum(m->rows() * H), sum_ref(sum.size());
      kernels::edge_row_sum(m->view(), H, ds.data(), sum.data());
      kernels::edge_row_sum_reference(m->view(), H, ds.data(), sum_ref.data());
      expect_close(sum, sum_ref, m == &a ? "edge_row_sum" : "edge_row_sum (transpose)", terms);
    }
    // edge_softmax forward and backward, with large scores (the max subtraction matters).
    auto scores = random_values<T>(a.nnz() * H, seed + 8, -80, 80);
    std::vector<T> p(scores.size()), p_ref(scores.size());
    kernels::edge_softmax(a.view(), H, scores.data(), p.data());
    kernels::edge_softmax_reference(a.view(), H, scores.data(), p_ref.data());
    expect_close(p, p_ref, "edge_softmax");
    for (int64_t v = 0; v < a.rows(); ++v) {
      for (int64_t h = 0; h < H && a.offsets[v + 1] > a.offsets[v]; ++h) {
        double total = 0;
        for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) total += p[k * H + h];
        EXPECT_NEAR(total, 1.0, 1e-5) << "row " << v;
      }
    }
    std::vector<T> g(scores.size()), g_ref(scores.size());
    kernels::edge_softmax_backward(a.view(), H, p_ref.data(), ds.data(), g.data());
    kernels::edge_softmax_backward_reference(a.view(), H, p_ref.data(), ds.data(), g_ref.data());
    expect_close(g, g_ref, "edge_softmax_backward", terms);
  }
}

TEST(Kernels, EdgeKernelsMatchReference) {
  uint64_t seed = 50;
  for (const Shape& s : kShapes) {
    const Csr a = random_csr(s.rows, s.cols, s.diagonal, ++seed);
    check_edge_kernels<float>(a, seed * 1000);
    check_edge_kernels<double>(a, seed * 1000);
  }
}

TEST(Softmax, FullyMaskedRowGivesZeros) {
  const Csr a = random_csr(3, 3, Diagonal::absent, 1);  // row 1 = {0, 2}
  std::vector<float> s(a.nnz(), -INFINITY), p(a.nnz(), 5.0f), p_ref(a.nnz(), 5.0f);
  kernels::edge_softmax(a.view(), 1, s.data(), p.data());
  kernels::edge_softmax_reference(a.view(), 1, s.data(), p_ref.data());
  for (int64_t k = 0; k < a.nnz(); ++k) {
    EXPECT_EQ(p[k], 0.0f);
    EXPECT_EQ(p_ref[k], 0.0f);
  }
}

template <class T>
void check_dropout_kernels(const Csr& a, uint64_t seed) {
  std::vector<int64_t> ids(a.cols);
  for (int64_t i = 0; i < a.cols; ++i) ids[i] = 1000003 * i + 17;
  for (double p : {0.0, 0.3, 0.9, 1.0}) {
    for (int64_t F : kWidths) {
      auto x = random_values<T>(a.cols * F, seed + F);
      std::vector<T> y(x.size()), y_ref(x.size());
      kernels::keyed_dropout(x.data(), y.data(), a.cols, F, ids.data(), seed, p);
      kernels::keyed_dropout_reference(x.data(), y_ref.data(), a.cols, F, ids.data(), seed, p);
      expect_close(y, y_ref, "keyed_dropout p=" + std::to_string(p));
      // Gated by ReLU's input: zeros, negatives and a NaN (which passes, as through ReLU).
      auto gate = random_values<T>(x.size(), seed + F + 1);
      for (size_t k = 0; k < gate.size(); k += 5) gate[k] = 0;
      if (!gate.empty()) gate.back() = std::numeric_limits<T>::quiet_NaN();
      kernels::keyed_dropout(x.data(), y.data(), a.cols, F, ids.data(), seed, p, gate.data());
      kernels::keyed_dropout_reference(x.data(), y_ref.data(), a.cols, F, ids.data(), seed, p, gate.data());
      expect_close(y, y_ref, "keyed_dropout gated p=" + std::to_string(p));
    }
    for (int64_t H : kHeads) {
      auto w = random_values<T>(a.nnz() * H, seed + H);
      std::vector<T> y(w.size()), y_ref(w.size());
      kernels::keyed_edge_dropout(a.view(), H, w.data(), y.data(), ids.data(), seed, p);
      kernels::keyed_edge_dropout_reference(a.view(), H, w.data(), y_ref.data(), ids.data(), seed, p);
      expect_close(y, y_ref, "keyed_edge_dropout p=" + std::to_string(p));
    }
  }
}

using DropoutKernels = OnEachIsa;
TEST_P(DropoutKernels, MatchReference) {
  uint64_t seed = 90;
  for (const Shape& s : kShapes) {
    const Csr a = random_csr(s.rows, s.cols, s.diagonal, ++seed);
    check_dropout_kernels<float>(a, seed);
    check_dropout_kernels<double>(a, seed);
  }
}
INSTANTIATE_TEST_SUITE_P(, DropoutKernels, testing::ValuesIn(kernels::kIsas), isa_param_name);

// Sparse rows (each element non-zero with probability 1/5) times a dense weight, the weight
// gradient and dropout, against plain loops over the dense matrix they stand for.
template <class T>
void check_sparse_rows_kernels(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<T> dense(rows * cols);
  std::vector<int64_t> offsets{0}, columns, per_column(cols);
  std::vector<T> values;
  int64_t longest = 0;  // row
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      if (rng() % 5 != 0) continue;
      dense[i * cols + j] = static_cast<T>(std::uniform_real_distribution<double>(-1, 1)(rng));
      columns.push_back(j);
      values.push_back(dense[i * cols + j]);
      ++per_column[j];
    }
    offsets.push_back(static_cast<int64_t>(columns.size()));
    longest = std::max(longest, offsets[i + 1] - offsets[i]);
  }
  const int64_t longest_column = cols == 0 ? 0 : *std::max_element(per_column.begin(), per_column.end());
  const kernels::SparseRowsView<T> x{rows, cols, offsets.data(), columns.data(), values.data()};
  for (int64_t F : kWidths) {
    auto w = random_values<T>(cols * F, seed + F);
    auto dy = random_values<T>(rows * F, seed + 2 * F);
    std::vector<double> y_ref(rows * F), dw_ref(cols * F);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        for (int64_t f = 0; f < F; ++f) {
          y_ref[i * F + f] += double(dense[i * cols + j]) * w[j * F + f];
          dw_ref[j * F + f] += double(dense[i * cols + j]) * dy[i * F + f];
        }
      }
    }
    std::vector<T> y(rows * F, T(-7)), dw(cols * F, T(-7));
    kernels::sparse_project(x, F, w.data(), y.data());
    kernels::sparse_project_weight_grad(x, F, dy.data(), dw.data());
    const std::string what = "F=" + std::to_string(F);
    expect_close(y, std::vector<T>(y_ref.begin(), y_ref.end()), "sparse_project " + what, longest);
    expect_close(dw, std::vector<T>(dw_ref.begin(), dw_ref.end()), "sparse_project_weight_grad " + what,
                 longest_column);
  }
  std::vector<int64_t> ids(rows);
  for (int64_t i = 0; i < rows; ++i) ids[i] = 1000003 * i + 17;
  for (double p : {0.0, 0.3, 0.9, 1.0}) {
    std::vector<T> dropped(values.size()), dense_ref(dense.size());
    kernels::keyed_dropout_sparse(x, dropped.data(), ids.data(), seed, p);
    kernels::keyed_dropout_reference(dense.data(), dense_ref.data(), rows, cols, ids.data(), seed, p);
    std::vector<T> want;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t k = offsets[i]; k < offsets[i + 1]; ++k) want.push_back(dense_ref[i * cols + columns[k]]);
    }
    expect_close(dropped, want, "keyed_dropout_sparse p=" + std::to_string(p));
  }
}

using SparseRowsKernels = OnEachIsa;
TEST_P(SparseRowsKernels, MatchReference) {
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{0, 5}, {1, 1}, {40, 57}, {9, 600}}) {
    check_sparse_rows_kernels<float>(rows, cols, static_cast<uint64_t>(rows * 1000 + cols));
    check_sparse_rows_kernels<double>(rows, cols, static_cast<uint64_t>(rows * 1000 + cols));
  }
}
INSTANTIATE_TEST_SUITE_P(, SparseRowsKernels, testing::ValuesIn(kernels::kIsas), isa_param_name);

// ---- keyed dropout: a function of (key, id, column) ---------------------------------------

at::Tensor distinct_ids(int64_t n, uint64_t seed) {
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), int64_t{5000});
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(seed));
  return at::tensor(ids, at::kLong);
}

TEST(Dropout, MaskDependsOnIdNotRowOrThreads) {
  const int64_t n = 3000, F = 37;
  const at::Tensor ids = distinct_ids(n, 1);
  const at::Tensor x = at::ones({n, F}, at::kFloat);
  at::Tensor y1;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    y1 = keyed_dropout(x, 0.4, 77, ids, true);
  }
  const at::Tensor perm = at::randperm(n, at::kLong);
  at::Tensor y2;
  {
    tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
    y2 = keyed_dropout(x, 0.4, 77, ids.index_select(0, perm), true);
  }
  EXPECT_TRUE(at::equal(y2, y1.index_select(0, perm)));
  EXPECT_FALSE(at::equal(keyed_dropout(x, 0.4, 78, ids, true), y1)) << "another key, another mask";
  // The first columns of a wider matrix draw the same numbers.
  const at::Tensor wide = keyed_dropout(at::ones({n, F + 5}, at::kFloat), 0.4, 77, ids, true);
  EXPECT_TRUE(at::equal(wide.narrow(1, 0, F), y1));
}

TEST(Dropout, KeepRateAndScale) {
  const int64_t n = 2000, F = 64;
  const at::Tensor ids = distinct_ids(n, 2);
  const at::Tensor x = at::rand({n, F}, at::kDouble) + 0.5;
  for (double p : {0.1, 0.5, 0.8}) {
    const at::Tensor y = keyed_dropout(x, p, 123, ids, true);
    const at::Tensor kept = y != 0;
    const double count = kept.sum().item<double>(), total = n * F;
    const double sd = std::sqrt(total * p * (1 - p));
    EXPECT_LT(std::abs(count - total * (1 - p)), 5 * sd) << "p = " << p;
    // p rounded up to a multiple of 2^-16 (16-bit draws), and the scale that keeps it unbiased.
    const double rounded = std::ceil(p * 0x1.0p16) / 0x1.0p16;
    EXPECT_LT(rounded - p, 0x1.0p-16);
    EXPECT_TRUE(at::allclose(y.masked_select(kept), x.masked_select(kept) / (1 - rounded), 1e-15, 0));
    // The four columns one hash serves are independent draws: neighbours are both kept at the
    // rate of two independent ones.
    const at::Tensor both = kept.narrow(1, 0, F - 1).logical_and(kept.narrow(1, 1, F - 1));
    const double pairs = n * (F - 1), q = (1 - p) * (1 - p);
    EXPECT_LT(std::abs(both.sum().item<double>() - pairs * q), 5 * std::sqrt(pairs * q * (1 - q))) << "p = " << p;
  }
  EXPECT_TRUE(keyed_dropout(x, 0.5, 1, ids, false).is_same(x)) << "identity when not training";
  EXPECT_TRUE(keyed_dropout(x, 0.0, 1, ids, true).is_same(x)) << "identity when p = 0";
  EXPECT_EQ(keyed_dropout(x, 1.0, 1, ids, true).abs().sum().item<double>(), 0.0);
}

TEST(Dropout, EdgeMaskIsTheSameInAPart) {
  // The whole graph, and a part: rows {3, 7, 11, 2} of it with their in-neighbours as columns
  // (own nodes first, then halo), numbered locally; node_ids map back.
  const Csr whole = random_csr(16, 16, Diagonal::absent, 5, 10);
  const std::vector<int32_t> deg(16, 1);
  std::vector<int64_t> ids(16);
  std::iota(ids.begin(), ids.end(), 0);
  const Block block(whole, deg, deg, ids);
  const std::vector<int64_t> inner = {3, 7, 11, 2};
  std::vector<int64_t> cols = inner;
  for (int64_t v : inner) {
    for (int64_t k = whole.offsets[v]; k < whole.offsets[v + 1]; ++k) {
      if (std::find(cols.begin(), cols.end(), whole.indices[k]) == cols.end()) cols.push_back(whole.indices[k]);
    }
  }
  Csr part;
  part.cols = static_cast<int64_t>(cols.size());
  std::vector<std::pair<int64_t, int64_t>> origin;  // (local entry's global edge)
  for (int64_t v : inner) {
    std::vector<std::pair<int32_t, int64_t>> row;  // (local column, entry of whole)
    for (int64_t k = whole.offsets[v]; k < whole.offsets[v + 1]; ++k) {
      row.push_back({static_cast<int32_t>(std::find(cols.begin(), cols.end(), whole.indices[k]) - cols.begin()), k});
    }
    std::sort(row.begin(), row.end());
    for (auto [u, k] : row) {
      part.indices.push_back(u);
      origin.push_back({static_cast<int64_t>(part.indices.size()) - 1, k});
    }
    part.offsets.push_back(static_cast<int64_t>(part.indices.size()));
  }
  const Block piece(part, std::vector<int32_t>(cols.size(), 1), std::vector<int32_t>(cols.size(), 1), cols);
  const int64_t H = 3;
  const at::Tensor w_whole = at::ones({whole.nnz(), H}, at::kFloat);
  const at::Tensor w_part = at::ones({part.nnz(), H}, at::kFloat);
  const at::Tensor a = keyed_edge_dropout(block, Loops::without, w_whole, 0.5, 9, true);
  const at::Tensor b = keyed_edge_dropout(piece, Loops::without, w_part, 0.5, 9, true);
  ASSERT_GT(part.nnz(), 5);
  for (auto [local, global] : origin) EXPECT_TRUE(at::equal(b[local], a[global])) << "edge " << global;
}

// ---- the autograd ops: shapes, errors, gradients ------------------------------------------

using Op = std::function<at::Tensor(const std::vector<at::Tensor>&)>;

// Gradients of sum(op(inputs) * probe) by autograd vs central differences, in float64, with
// the oneTBB kernels and with the LibTorch ops other devices run.
void expect_gradients_match(const Op& op, std::vector<at::Tensor> inputs, const std::string& what);

void expect_gradients_match_on_one_path(const Op& op, std::vector<at::Tensor> inputs, const std::string& what) {
  for (at::Tensor& t : inputs) t = t.to(at::kDouble).detach().clone().set_requires_grad(true);
  const at::Tensor out = op(inputs);
  const at::Tensor probe = at::randn(out.sizes(), at::kDouble);
  (out * probe).sum().backward();
  const double eps = 1e-6;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor grad = inputs[i].grad();
    ASSERT_TRUE(grad.defined()) << what << ": no gradient for input " << i;
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> moved(inputs.begin(), inputs.end());
    for (auto& t : moved) t = t.detach().clone();
    at::Tensor flat = moved[i].view({-1});
    for (int64_t j = 0; j < flat.numel(); ++j) {
      const double keep = flat[j].item<double>();
      flat[j] = keep + eps;
      const double plus = (op(moved) * probe).sum().item<double>();
      flat[j] = keep - eps;
      const double minus = (op(moved) * probe).sum().item<double>();
      flat[j] = keep;
      EXPECT_NEAR(grad.view({-1})[j].item<double>(), (plus - minus) / (2 * eps), 1e-6)
          << what << ": input " << i << " element " << j;
    }
  }
}

void expect_gradients_match(const Op& op, std::vector<at::Tensor> inputs, const std::string& what) {
  expect_gradients_match_on_one_path(op, inputs, what + " (kernels)");
  TorchOpsOnCpu torch_ops;
  expect_gradients_match_on_one_path(op, inputs, what + " (LibTorch ops)");
}

TEST(GraphOps, AggregateGradients) {
  const Block block = random_block(6, 9, 3);
  const at::Tensor r = block.in_degree().narrow(0, 0, 6).rsqrt(), c = block.out_degree().rsqrt();
  for (Loops loops : {Loops::without, Loops::with}) {
    for (bool relu : {false, true}) {
      const auto op = [&](const std::vector<at::Tensor>& in) {
        AggregateOptions o;
        o.row_scale = r;
        o.col_scale = c;
        o.bias = in[1];
        o.relu = relu;
        return aggregate(block, loops, in[0], o);
      };
      expect_gradients_match(op, {at::randn({9, 4}), at::randn({4})}, relu ? "aggregate relu" : "aggregate");
    }
    const auto plain = [&](const std::vector<at::Tensor>& in) { return aggregate(block, loops, in[0]); };
    expect_gradients_match(plain, {at::randn({9, 3})}, "aggregate plain");
  }
}

// An undirected graph in one process: aggregate's backward runs on the adjacency itself, as its
// own transpose, and its gradients still match finite differences.
TEST(GraphOps, SymmetricBlockIsItsOwnTranspose) {
  const Csr a = random_csr(9, 9, Diagonal::absent, 5), at = a.transposed();
  Csr sym;
  sym.cols = 9;
  for (int64_t v = 0; v < 9; ++v) {
    std::set<int32_t> row(a.indices.begin() + a.offsets[v], a.indices.begin() + a.offsets[v + 1]);
    row.insert(at.indices.begin() + at.offsets[v], at.indices.begin() + at.offsets[v + 1]);
    sym.indices.insert(sym.indices.end(), row.begin(), row.end());
    sym.offsets.push_back(static_cast<int64_t>(sym.indices.size()));
  }
  EXPECT_TRUE(sym.is_symmetric());
  EXPECT_FALSE(a.is_symmetric());
  EXPECT_FALSE(random_csr(6, 9, Diagonal::absent, 5).is_symmetric());

  const Block block(sym, std::vector<int32_t>(9, 3), std::vector<int32_t>(9, 3), std::vector<int64_t>(9, 0));
  EXPECT_EQ(&block.adjacency_t_pattern(), &block.adjacency());
  EXPECT_EQ(&block.with_self_loops_t_pattern(), &block.with_self_loops());
  const Block part = random_block(6, 9, 3);
  EXPECT_EQ(&part.adjacency_t_pattern(), &part.adjacency_t());
  const at::Tensor r = at::rand({9}) + 0.5, c = at::rand({9}) + 0.5;
  for (Loops loops : {Loops::without, Loops::with}) {
    const auto op = [&](const std::vector<at::Tensor>& in) {
      AggregateOptions o;
      o.row_scale = r;
      o.col_scale = c;
      return aggregate(block, loops, in[0], o);
    };
    expect_gradients_match(op, {at::randn({9, 4})}, "symmetric aggregate");
  }
}

TEST(GraphOps, WeightedAggregateGradients) {
  const Block block = random_block(5, 8, 4);
  for (Loops loops : {Loops::without, Loops::with}) {
    const int64_t nnz = (loops == Loops::with ? block.with_self_loops() : block.adjacency()).nnz();
    const auto op = [&](const std::vector<at::Tensor>& in) { return weighted_aggregate(block, loops, in[0], in[1]); };
    expect_gradients_match(op, {at::randn({nnz, 2}), at::randn({8, 2, 3})}, "weighted_aggregate");
  }
}

TEST(GraphOps, EdgeAddAndSoftmaxGradients) {
  const Block block = random_block(5, 8, 5);
  for (Loops loops : {Loops::without, Loops::with}) {
    const auto add = [&](const std::vector<at::Tensor>& in) { return edge_add(block, loops, in[0], in[1]); };
    expect_gradients_match(add, {at::randn({5, 2}), at::randn({8, 2})}, "edge_add");
    const int64_t nnz = (loops == Loops::with ? block.with_self_loops() : block.adjacency()).nnz();
    const auto softmax = [&](const std::vector<at::Tensor>& in) { return edge_softmax(block, loops, in[0]); };
    expect_gradients_match(softmax, {at::randn({nnz, 2})}, "edge_softmax");
    // GAT's chain: logits -> leaky relu -> softmax -> weighted sum.
    const auto chain = [&](const std::vector<at::Tensor>& in) {
      const at::Tensor p = edge_softmax(block, loops, at::leaky_relu(edge_add(block, loops, in[0], in[1]), 0.2));
      return weighted_aggregate(block, loops, keyed_edge_dropout(block, loops, p, 0.3, 11, true), in[2]);
    };
    expect_gradients_match(chain, {at::randn({5, 2}), at::randn({8, 2}), at::randn({8, 2, 3})}, "gat chain");
  }
}

TEST(GraphOps, DropoutGradients) {
  const at::Tensor ids = distinct_ids(7, 3);
  const auto op = [&](const std::vector<at::Tensor>& in) { return keyed_dropout(in[0], 0.5, 4, ids, true); };
  expect_gradients_match(op, {at::randn({7, 5})}, "keyed_dropout");
  const Block block = random_block(5, 8, 6);
  const auto edges = [&](const std::vector<at::Tensor>& in) {
    return keyed_edge_dropout(block, Loops::with, in[0], 0.5, 4, true);
  };
  expect_gradients_match(edges, {at::randn({block.with_self_loops().nnz(), 3})}, "keyed_edge_dropout");
}

TEST(GraphOps, FloatMatchesDouble) {
  const Block block = random_block(30, 41, 7);
  const at::Tensor x = at::randn({41, 33}, at::kDouble);
  AggregateOptions o;
  o.row_scale = block.in_degree().narrow(0, 0, 30).reciprocal();
  const at::Tensor y64 = aggregate(block, Loops::with, x, o);
  const at::Tensor y32 = aggregate(block, Loops::with, x.to(at::kFloat), o);
  EXPECT_EQ(y32.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(y32.to(at::kDouble), y64, 1e-5, 1e-5));
}

TEST(GraphOps, RejectsBadInput) {
  const Block block = random_block(6, 9, 8);
  test::expect_error([&] { aggregate(block, Loops::with, at::zeros({8, 4})); }, {"aggregate", "x", "[8, 4]", "[9, *]"});
  test::expect_error([&] { aggregate(block, Loops::with, at::zeros({9, 4}, at::kInt)); }, {"aggregate", "dtype"});
  AggregateOptions o;
  o.bias = at::zeros({5});
  test::expect_error([&] { aggregate(block, Loops::with, at::zeros({9, 4}), o); }, {"aggregate", "bias", "[4]"});
  o.bias = at::zeros({4}, at::kDouble);
  test::expect_error([&] { aggregate(block, Loops::with, at::zeros({9, 4}), o); }, {"aggregate", "bias", "dtype"});
  o = {};
  o.row_scale = at::ones({9});
  test::expect_error([&] { aggregate(block, Loops::with, at::zeros({9, 4}), o); }, {"row_scale", "[6]"});
  test::expect_error(
      [&] {
        weighted_aggregate(block, Loops::without, at::zeros({3, 2}), at::zeros({9, 2, 4}));
      },
      {"weighted_aggregate", "w", "[3, 2]"});
  test::expect_error(
      [&] {
        edge_add(block, Loops::with, at::zeros({6, 2}), at::zeros({9, 3}));
      },
      {"edge_add", "s_src", "[9, 2]"});
  test::expect_error([&] { edge_softmax(block, Loops::with, at::zeros({1, 1})); }, {"edge_softmax", "scores"});
  test::expect_error(
      [&] {
        keyed_dropout(at::zeros({3, 2}), 1.5, 0, distinct_ids(3, 0), true);
      },
      {"keyed_dropout", "1.5"});
  test::expect_error(
      [&] {
        keyed_dropout(at::zeros({3, 2}), 0.5, 0, distinct_ids(4, 0), true);
      },
      {"keyed_dropout", "ids", "[3]"});
}

TEST(GraphOps, EmptyBlock) {
  const Block block(Csr{}, {}, {}, {});
  for (const bool torch_ops : {false, true}) {
    std::optional<TorchOpsOnCpu> path;
    if (torch_ops) path.emplace();
    EXPECT_EQ(aggregate(block, Loops::with, at::zeros({0, 4})).sizes(), (std::vector<int64_t>{0, 4}));
    EXPECT_EQ(edge_softmax(block, Loops::without, at::zeros({0, 2})).numel(), 0);
  }
}

TEST(GraphOps, RejectsTensorsOffTheBlocksDevice) {
  const Block block = random_block(6, 9, 8);
  test::expect_error(
      [&] {
        aggregate(block, Loops::with, at::zeros({9, 4}, at::kMeta));
      },
      {"aggregate", "x is on meta", "expected cpu"});
  test::expect_error(
      [&] {
        keyed_dropout(at::zeros({3, 2}), 0.5, 0, distinct_ids(3, 0).to(at::kMeta), true);
      },
      {"keyed_dropout", "ids", "on meta"});
}

// ---- determinism --------------------------------------------------------------------------

// Forward and backward of every op on a graph big enough for many ranges, on `threads` threads.
std::vector<at::Tensor> run_all_ops(const Block& block, int threads) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  at::manual_seed(42);
  const int64_t cols = block.num_cols(), rows = block.num_rows(), nnz = block.with_self_loops().nnz();
  const at::Tensor x = at::randn({cols, 48}).set_requires_grad(true);
  const at::Tensor bias = at::randn({48}).set_requires_grad(true);
  const at::Tensor xh = at::randn({cols, 2, 24}).set_requires_grad(true);
  const at::Tensor d = at::randn({rows, 2}).set_requires_grad(true);
  const at::Tensor s = at::randn({cols, 2}).set_requires_grad(true);
  AggregateOptions o;
  o.row_scale = block.in_degree().narrow(0, 0, rows).rsqrt();
  o.col_scale = block.out_degree().rsqrt();
  o.bias = bias;
  o.relu = true;
  const at::Tensor y = aggregate(block, Loops::with, keyed_dropout(x, 0.3, 5, block.node_ids(), true), o);
  const at::Tensor p = edge_softmax(block, Loops::with, edge_add(block, Loops::with, d, s));
  const at::Tensor z =
      weighted_aggregate(block, Loops::with, keyed_edge_dropout(block, Loops::with, p, 0.2, 6, true), xh);
  ((y * y).sum() + (z * z).sum()).backward();
  EXPECT_EQ(p.size(0), nnz);
  return {y, z, p, x.grad(), xh.grad(), d.grad(), s.grad()};
}

// The LibTorch ops (the GPU path) compute what the kernels compute: the same dropout bits, and
// sums that differ only in rounding.
TEST(GraphOps, LibTorchOpsMatchTheKernels) {
  const Block block = random_block(800, 1000, 10, 40);
  const auto kernels = run_all_ops(block, 2);
  std::vector<at::Tensor> torch_ops;
  {
    TorchOpsOnCpu path;
    torch_ops = run_all_ops(block, 2);
  }
  for (size_t i = 0; i < kernels.size(); ++i) {
    EXPECT_TRUE(at::allclose(kernels[i], torch_ops[i], 1e-5, 1e-5))
        << "result " << i << ": largest difference " << (kernels[i] - torch_ops[i]).abs().max().item<double>();
  }
  for (const double p : {0.1, 0.5, 0.9}) {
    const at::Tensor x = at::rand({300, 37}) + 0.5, w = at::rand({block.with_self_loops().nnz(), 3}) + 0.5;
    const at::Tensor rows = keyed_dropout(x, p, 21, block.node_ids().narrow(0, 0, 300), true);
    const at::Tensor edges = keyed_edge_dropout(block, Loops::with, w, p, 22, true);
    TorchOpsOnCpu path;
    const at::Tensor rows_t = keyed_dropout(x, p, 21, block.node_ids().narrow(0, 0, 300), true);
    const at::Tensor edges_t = keyed_edge_dropout(block, Loops::with, w, p, 22, true);
    EXPECT_TRUE(at::equal(rows.eq(0), rows_t.eq(0))) << "row dropout mask, p = " << p;
    EXPECT_TRUE(at::equal(edges.eq(0), edges_t.eq(0))) << "edge dropout mask, p = " << p;
    EXPECT_TRUE(at::allclose(rows, rows_t) && at::allclose(edges, edges_t)) << "dropout scale, p = " << p;
  }
}

// Every op whose kernels are compiled per level, at widths with columns past the last whole pack
// of every level; the sparse-row ops on x's rows with three quarters of their elements zeroed.
std::vector<at::Tensor> run_isa_ops(const Block& block) {
  std::vector<at::Tensor> out = run_all_ops(block, 2);
  const int64_t cols = block.num_cols(), nnz = block.with_self_loops().nnz();
  for (int64_t F : {7, 33, 257}) {
    at::manual_seed(F);
    const at::Tensor x = at::randn({cols, 2, F}).set_requires_grad(true);
    const at::Tensor w = at::rand({nnz, 2}).set_requires_grad(true);
    const at::Tensor y = weighted_aggregate(block, Loops::with, w, x);
    (y * y).sum().backward();
    const at::Tensor rows = x.detach().view({cols, 2 * F});
    const at::Tensor sparse = sparse_rows(rows.relu() * (at::rand_like(rows) < 0.5));
    const at::Tensor weight = at::randn({2 * F, F}).set_requires_grad(true);
    const at::Tensor projected = project(sparse, weight);
    projected.sum().backward();
    out.insert(out.end(), {y, x.grad(), w.grad(), keyed_dropout(rows, 0.3, F, block.node_ids(), true), projected,
                           weight.grad(), keyed_dropout(sparse, 0.3, F, block.node_ids(), true).values()});
  }
  return out;
}

// The levels sum in the same order, lane by lane, and never fuse into FMAs: a run gives the same
// bits on any machine.
TEST(Kernels, SameBitsOnEveryIsa) {
  const Block block = random_block(3000, 3400, 9, 60);
  std::vector<at::Tensor> sse2;
  {
    const ForcedIsa level(Isa::sse2);
    sse2 = run_isa_ops(block);
  }
  for (Isa isa : kernels::kIsas) {
    if (isa == Isa::sse2 || isa > kernels::cpu_isa()) continue;
    const ForcedIsa level(isa);
    const std::vector<at::Tensor> got = run_isa_ops(block);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(at::equal(got[i], sse2[i])) << kernels::isa_name(isa) << " vs sse2, result " << i;
    }
  }
}

TEST(Kernels, DeterministicAcrossRunsAndThreadCounts) {
  const Block block = random_block(3000, 3400, 9, 60);
  const auto one = run_all_ops(block, 1);
  const auto two = run_all_ops(block, 2);
  const auto again = run_all_ops(block, 2);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(at::equal(one[i], two[i])) << "result " << i << ": 1 vs 2 threads";
    EXPECT_TRUE(at::equal(two[i], again[i])) << "result " << i << ": two runs";
  }
}

}  // namespace
}  // namespace halo
