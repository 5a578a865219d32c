// Sparse input features (gcn/sparse_features.h): the conversions, and that dropout, project and
// every built-in layer give on sparse rows what they give on the same features dense.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <torch/autograd.h>

#include <string>
#include <vector>

#include "datasets/presets.h"
#include "gcn/graph_ops.h"
#include "gcn/model.h"
#include "gcn/sparse_features.h"
#include "test_support.h"

namespace halo {
namespace {

// rows x cols, about `share` of it non-zero, with an empty first row.
at::Tensor mostly_zero(int64_t rows, int64_t cols, double share, at::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::randn({rows, cols}, dtype) * (at::rand({rows, cols}, dtype) < share).to(dtype);
  x[0].zero_();
  return x;
}

at::Tensor ids_for(int64_t rows) { return at::arange(rows, at::kLong) * 7 + 3; }

TEST(SparseFeatures, ConversionsKeepTheValues) {
  const at::Tensor dense = mostly_zero(40, 23, 0.1, at::kFloat, 1);
  const at::Tensor x = sparse_rows(dense);
  EXPECT_TRUE(is_sparse_rows(x));
  EXPECT_FALSE(is_sparse_rows(dense));
  EXPECT_EQ(x.values().numel(), dense.count_nonzero().item<int64_t>());
  EXPECT_NEAR(nonzero_share(dense), static_cast<double>(x.values().numel()) / dense.numel(), 1e-12);
  EXPECT_TRUE(x.to_dense().equal(dense));
  EXPECT_TRUE(leading_rows(x, 17).to_dense().equal(dense.narrow(0, 0, 17)));
  EXPECT_TRUE(leading_rows(x, 0).to_dense().equal(dense.narrow(0, 0, 0)));
  const at::Tensor index = at::tensor({5, 0, 39, 5, 12}, at::kLong);
  const at::Tensor scale = at::tensor({1.0, 2.0, 0.5, 3.0, 1.0}, at::kFloat);
  EXPECT_TRUE(select_sparse_rows(x, index, {}).to_dense().equal(dense.index_select(0, index)));
  EXPECT_TRUE(select_sparse_rows(x, index, scale).to_dense().equal(dense.index_select(0, index) * scale.unsqueeze(1)));
  test::expect_error([&] { select_sparse_rows(x, at::tensor({40}, at::kLong), {}); },
                     {"select_sparse_rows", "row 40", "[0, 40)"});
}

TEST(SparseFeatures, DropoutDrawsTheDenseMask) {
  for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor dense = mostly_zero(50, 31, 0.2, dtype, 2);
    const at::Tensor ids = ids_for(50);
    for (double p : {0.0, 0.3, 0.5, 1.0}) {
      const at::Tensor want = keyed_dropout(dense, p, 99, ids, true);
      EXPECT_TRUE(keyed_dropout(sparse_rows(dense), p, 99, ids, true).to_dense().equal(want)) << "p = " << p;
    }
  }
}

TEST(SparseFeatures, ProjectMatchesTheDenseProduct) {
  for (int64_t width : {1, 7, 33}) {
    const at::Tensor dense = mostly_zero(60, 45, 0.1, at::kDouble, 3);
    const at::Tensor add = at::randn({60, width}, at::kDouble).requires_grad_();
    const at::Tensor w = at::randn({45, width}, at::kDouble).requires_grad_();
    const at::Tensor probe = at::randn({60, width}, at::kDouble);
    const at::Tensor want = at::addmm(add, dense, w);
    const auto [want_dw, want_dadd] = [&] {
      const torch::autograd::variable_list g = torch::autograd::grad({(want * probe).sum()}, {w, add});
      return std::pair{g[0], g[1]};
    }();
    std::vector<at::Tensor> bits;
    for (int threads : {1, 2}) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
      const at::Tensor got = project(sparse_rows(dense), w, add);
      const torch::autograd::variable_list g = torch::autograd::grad({(got * probe).sum()}, {w, add});
      EXPECT_TRUE(at::allclose(got, want, 1e-12, 1e-12)) << "width " << width;
      EXPECT_TRUE(at::allclose(g[0], want_dw, 1e-12, 1e-12)) << "width " << width;
      EXPECT_TRUE(at::allclose(g[1], want_dadd, 1e-12, 1e-12)) << "width " << width;
      bits.push_back(at::cat({got.flatten(), g[0].flatten()}));
    }
    EXPECT_TRUE(bits[0].equal(bits[1])) << "width " << width << ": the thread count changed a result";
  }
}

TEST(SparseFeatures, SparseRowsTakeNoGradients) {
  at::Tensor x = sparse_rows(mostly_zero(4, 3, 0.5, at::kFloat, 4));
  x.set_requires_grad(true);
  const at::Tensor w = at::randn({3, 2});
  test::expect_error([&] { project(x, w); }, {"project", "sparse rows", "cannot take gradients"});
  test::expect_error([&] { keyed_dropout(x, 0.5, 1, ids_for(4), true); }, {"keyed_dropout", "cannot take gradients"});
  test::expect_error([&] { project(sparse_rows(mostly_zero(4, 5, 0.5, at::kFloat, 4)), w); },
                     {"project", "x has shape [4, 5], expected [*, 3]"});
}

// Every built-in layer, with dropout, on a generated graph: the same logits and weight gradients
// from sparse rows as from the dense features.
class SparseInput : public testing::TestWithParam<std::string> {};

TEST_P(SparseInput, LayersGiveTheDenseResult) {
  const Dataset d = generate_preset("tiny");
  const Block block = Block::whole_graph(d.graph);
  const at::Tensor dense = mostly_zero(block.num_cols(), 40, 0.05, at::kFloat, 5);
  at::manual_seed(6);
  Model model(ModelOptions().kind(GetParam()).in_features(40).hidden(8).heads(2).out_features(5).dropout(0.5));
  ASSERT_TRUE(model->takes_sparse_input());
  std::vector<at::Tensor> grads[2];
  at::Tensor logits[2];
  for (int sparse : {0, 1}) {
    model->zero_grad();
    logits[sparse] = model->forward(block, sparse ? sparse_rows(dense) : dense, 42);
    logits[sparse].pow(2).sum().backward();
    for (const at::Tensor& p : model->parameters()) grads[sparse].push_back(p.grad().clone());
  }
  EXPECT_TRUE(at::allclose(logits[1], logits[0], 1e-5, 1e-6));
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_TRUE(at::allclose(grads[1][i], grads[0][i], 1e-4, 1e-5)) << "parameter " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SparseInput, testing::Values("gcn", "sage", "gat"));

}  // namespace
}  // namespace halo
