// The built-in layers' precompute split (DESIGN rule 4): forward(block, x) equals
// forward_precomputed(precompute(block, x)), values and weight gradients, on a part-shaped Block
// (halo columns), for dense and sparse-row inputs; and the Trainer's choice of it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "datasets/community_generator.h"
#include "gcn/gat_conv.h"
#include "gcn/gcn_conv.h"
#include "gcn/sage_conv.h"
#include "gcn/sparse_features.h"
#include "gcn/trainer.h"
#include "random_blocks.h"
#include "test_support.h"

namespace halo {
namespace {

using test::expect_error;
using test::random_block;

// Weight gradients of the sum of a layer's outputs times fixed random factors.
std::vector<at::Tensor> weight_gradients(GraphLayerImpl& layer, const at::Tensor& y, const at::Tensor& factors) {
  layer.zero_grad();
  (y * factors).sum().backward();
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : layer.parameters()) grads.push_back(p.grad().clone());
  return grads;
}

void expect_split_matches_forward(GraphLayerImpl& layer, int64_t in) {
  const Block block = random_block(40, 70, 11, 12);
  torch::manual_seed(5);
  at::Tensor x = at::rand({block.num_cols(), in}, at::kDouble);
  x.masked_fill_(x < 0.9, 0);  // mostly zero, so the sparse-row form is a natural one
  layer.to(at::kDouble);
  for (const bool sparse : {false, true}) {
    SCOPED_TRACE(sparse ? "sparse rows" : "dense");
    const at::Tensor input = sparse ? sparse_rows(x) : x;
    const at::Tensor direct = layer.forward(block, input);
    const at::Tensor factors = at::rand_like(direct);
    const std::vector<at::Tensor> direct_grads = weight_gradients(layer, direct, factors);
    const at::Tensor p = layer.precompute(block, input);
    EXPECT_FALSE(p.requires_grad());
    EXPECT_EQ(p.size(0), block.num_rows());
    const at::Tensor split = layer.forward_precomputed(p, {});
    EXPECT_TRUE(at::allclose(split, direct, 1e-12, 1e-12));
    const std::vector<at::Tensor> split_grads = weight_gradients(layer, split, factors);
    ASSERT_EQ(split_grads.size(), direct_grads.size());
    for (size_t i = 0; i < split_grads.size(); ++i)
      EXPECT_TRUE(at::allclose(split_grads[i], direct_grads[i], 1e-12, 1e-12));
    // And from a precompute held as sparse rows.
    EXPECT_TRUE(at::allclose(layer.forward_precomputed(sparse_rows(p), {}), direct, 1e-12, 1e-12));
  }
}

TEST(Precompute, GcnSplitMatchesForward) {
  for (const int64_t out : {3, 16}) {  // projecting first and aggregating first
    GCNConv gcn(GCNConvOptions(9, out));
    expect_split_matches_forward(*gcn, 9);
  }
}

TEST(Precompute, SageSplitMatchesForward) {
  for (const bool root : {true, false}) {
    for (const int64_t out : {3, 16}) {
      SAGEConv sage(SAGEConvOptions(9, out).root_weight(root));
      expect_split_matches_forward(*sage, 9);
    }
  }
}

// The layers' dropout on the precomputed input, drawn again in backward rather than kept: the
// values and gradients of dropout then product, with a bias and with a full addend.
// More rows than one block of dropout_project's (8192), so both passes go block by block.
TEST(Precompute, DropoutProjectIsDropoutThenProject) {
  torch::manual_seed(3);
  constexpr int64_t n = 20000;
  const at::Tensor x = at::rand({n, 12}, at::kDouble), ids = at::arange(1000, 1000 + n, at::kLong);
  const at::Tensor weight = at::rand({12, 7}, at::kDouble).requires_grad_();
  const KeyedDropout dropout{0.4, 77, ids, true};
  for (const at::Tensor& add : {at::rand({7}, at::kDouble), at::rand({n, 7}, at::kDouble)}) {
    const at::Tensor a = add.clone().requires_grad_();
    const at::Tensor factors = at::rand({n, 7}, at::kDouble);
    const at::Tensor fused = dropout_project(x, dropout, weight, a);
    (fused * factors).sum().backward();
    const at::Tensor fused_dw = weight.grad().clone(), fused_da = a.grad().clone();
    weight.mutable_grad().zero_();
    a.mutable_grad().zero_();
    const at::Tensor plain = project(keyed_dropout(x, dropout.p, dropout.key, ids, true), weight, a);
    (plain * factors).sum().backward();
    EXPECT_TRUE(at::allclose(fused, plain, 1e-12, 1e-12));
    EXPECT_TRUE(at::allclose(fused_dw, weight.grad(), 1e-12, 1e-12));
    EXPECT_TRUE(at::allclose(fused_da, a.grad(), 1e-12, 1e-12));
    weight.mutable_grad().zero_();
  }
  expect_error(
      [&] {
        dropout_project(x, KeyedDropout{0.4, 77, ids.narrow(0, 0, 3), true}, weight);
      },
      {"dropout_project", "ids must be int64 of shape [20000]"});
}

TEST(Precompute, LayersWithoutASplitSayWhich) {
  GATConv gat(GATConvOptions(9, 4));
  EXPECT_FALSE(gat->precomputes());
  const Block block = random_block(4, 6, 2);
  expect_error([&] { gat->precompute(block, at::rand({6, 9})); }, {"GATConv", "no parameter-free aggregation"});
  const Dataset d = generate_community(CommunityOptions().num_nodes(300).num_features(8).num_classes(3));
  Model model(ModelOptions().kind("gat").in_features(8).out_features(3));
  expect_error([&] { Trainer(d, model, TrainerOptions().precompute_input(true)); },
               {"--precompute-input", "GATConv", "no parameter-free aggregation"});
}

// On by default for dense features, off for sparse rows (bag-of-words), as asked otherwise.
TEST(Precompute, TrainerChoosesItForDenseFeatures) {
  const Dataset dense = generate_community(CommunityOptions().num_nodes(300).num_features(8).num_classes(3));
  Dataset bag = dense;
  bag.features = dense.features.masked_fill(at::rand_like(dense.features) < 0.99, 0);
  const auto input = [](const Dataset& d, std::optional<bool> asked) {
    Model model(ModelOptions().kind("sage").in_features(8).out_features(3));
    return Trainer(d, model, TrainerOptions().epochs(1).precompute_input(asked)).input();
  };
  EXPECT_EQ(input(dense, std::nullopt), Input::precomputed);
  EXPECT_EQ(input(bag, std::nullopt), Input::features);
  EXPECT_EQ(input(dense, false), Input::features);
  EXPECT_EQ(input(bag, true), Input::precomputed);
}

}  // namespace
}  // namespace halo
