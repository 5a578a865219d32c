// The built-in layers' precompute split (DESIGN rule 4): forward(block, x) equals
// forward_precomputed(precompute(block, x)), values and weight gradients, on a part-shaped Block
// (halo columns), for dense and sparse-row inputs; and the Trainer's choice of it. Their
// overlapped forward (inner columns first, halo rows late) against the fused one. Each layer
// against its formula written densely, and the short forms that build layers and Models.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <halo/halo.h>  // the umbrella header users include
#include <torch/torch.h>

#include "datasets/community_generator.h"
#include "gcn/gat_conv.h"
#include "gcn/gcn_conv.h"
#include "gcn/sage_conv.h"
#include "gcn/sparse_features.h"
#include "random_blocks.h"
#include "test_support.h"
#include "train/trainer.h"

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

// forward_overlapped(block, inner, halo, ops) against forward_fused(block, [inner | halo], ops):
// values and the gradients of the inner rows, the halo rows and the weights, with the previous
// layer's ReLU and a dropout to apply. Backward reaches the halo rows before the inner rows (so
// their gradients travel while the inner ones are computed).
// in_parts: the halo rows handed over in parts of 7 columns, as an evaluation hands over its
// peers' rows (values only: parts come without a graph), else whole.
void expect_overlap_matches_fused(GraphLayerImpl& layer, int64_t in, int64_t cols, bool in_parts) {
  SCOPED_TRACE(testing::Message() << cols << " columns" << (in_parts ? ", in parts" : ""));
  const Block block = random_block(40, cols, 11, 12);
  const int64_t n = block.num_rows();
  torch::manual_seed(6);
  const at::Tensor x = at::randn({block.num_cols(), in}, at::kDouble);
  layer.to(at::kDouble);
  layer.train();
  const InputOps ops{true, {0.5, 42, block.node_ids(), true}};
  const at::Tensor fused_x = x.clone().requires_grad_();
  const at::Tensor fused = layer.forward_fused(block, fused_x, ops);
  const at::Tensor factors = at::rand_like(fused);
  const std::vector<at::Tensor> fused_grads = weight_gradients(layer, fused, factors);

  const at::Tensor inner = x.narrow(0, 0, n).clone().requires_grad_();
  const at::Tensor halo = x.narrow(0, n, x.size(0) - n).clone().requires_grad_();
  std::vector<std::string> order;
  inner.register_hook([&](const at::Tensor&) { order.push_back("inner"); });
  halo.register_hook([&](const at::Tensor&) { order.push_back("halo"); });
  const LateHalo::Parts parts = [&](const Block& b, const LateHalo::Visit& visit) {
    for (int64_t first = 0; first < halo.size(0); first += 7) {
      const int64_t count = std::min<int64_t>(7, halo.size(0) - first);
      visit(b.halo_columns(first, count), halo.narrow(0, first, count));
    }
  };
  const LateHalo late_halo([&] { return halo; }, in_parts ? parts : LateHalo::Parts());
  if (in_parts) {  // parts come without a graph (LateHalo)
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(at::allclose(layer.forward_overlapped(block, inner, late_halo, ops), fused, 1e-12, 1e-12));
    EXPECT_TRUE(late_halo.asked());
    return;
  }
  const at::Tensor late = layer.forward_overlapped(block, inner, late_halo, ops);
  EXPECT_TRUE(late_halo.asked());
  EXPECT_TRUE(at::allclose(late, fused, 1e-12, 1e-12));
  const std::vector<at::Tensor> late_grads = weight_gradients(layer, late, factors);
  for (size_t i = 0; i < late_grads.size(); ++i) EXPECT_TRUE(at::allclose(late_grads[i], fused_grads[i], 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(at::cat({inner.grad(), halo.grad()}), fused_x.grad(), 1e-12, 1e-12));
  if (halo.size(0) > 0) EXPECT_EQ(order, (std::vector<std::string>{"halo", "inner"}));
}

// With halo columns, and without (one rank: the halo part has no columns, nothing to add).
void expect_overlap_matches_fused(GraphLayerImpl& layer, int64_t in) {
  for (const int64_t cols : {70, 40}) {
    for (const bool in_parts : {false, true}) expect_overlap_matches_fused(layer, in, cols, in_parts);
  }
}

TEST(Overlap, GcnMatchesFused) {
  for (const int64_t out : {3, 16}) {  // projecting first and aggregating first
    GCNConv gcn(GCNConvOptions(9, out));
    gcn->fuse_relu();
    expect_overlap_matches_fused(*gcn, 9);
  }
}

TEST(Overlap, SageMatchesFused) {
  for (const bool root : {true, false}) {
    for (const int64_t out : {3, 16}) {
      SAGEConv sage(SAGEConvOptions(9, out).root_weight(root));
      expect_overlap_matches_fused(*sage, 9);
    }
  }
}

// A layer without its own split (GAT) waits for its halo rows first: the same results.
TEST(Overlap, OtherLayersWaitFirst) {
  GATConv gat(GATConvOptions(9, 4).heads(2));
  const Block block = random_block(40, 70, 11, 12);
  gat->to(at::kDouble);
  gat->eval();
  const at::Tensor x = at::randn({block.num_cols(), 9}, at::kDouble);
  const int64_t n = block.num_rows();
  const at::Tensor late =
      gat->forward_overlapped(block, x.narrow(0, 0, n), LateHalo([&] { return x.narrow(0, n, x.size(0) - n); }), {});
  EXPECT_TRUE(at::allclose(late, gat->forward(block, x), 1e-12, 1e-12));
}

// A halo part's rows are not its columns: no self-loops to add.
TEST(Overlap, HaloPartHasNoSelfLoops) {
  const Block block = random_block(40, 70, 11, 12);
  EXPECT_EQ(block.inner_part().num_cols(), 40);
  EXPECT_EQ(block.halo_part().num_cols(), 30);
  EXPECT_EQ(block.inner_part().adjacency().nnz() + block.halo_part().adjacency().nnz(), block.adjacency().nnz());
  expect_error([&] { block.halo_part().with_self_loops(); }, {"halo part has no self-loops"});
}

// Ranges of halo columns split the halo part's entries, each renumbered from 0 with its columns'
// degrees and ids.
TEST(Overlap, HaloColumnsSplitTheHaloPart) {
  const Block block = random_block(40, 70, 11, 12);
  const Block& halo = block.halo_part();
  int64_t nnz = 0;
  for (const int64_t first : {0, 13}) {
    const int64_t count = first == 0 ? 13 : 17;
    const Block part = block.halo_columns(first, count);
    EXPECT_EQ(part.num_rows(), 40);
    EXPECT_EQ(part.num_cols(), count);
    EXPECT_TRUE(part.node_ids().equal(halo.node_ids().narrow(0, first, count)));
    EXPECT_TRUE(part.in_degree().equal(halo.in_degree().narrow(0, first, count)));
    for (int64_t r = 0; r < part.num_rows(); ++r) {
      for (int64_t e = part.adjacency().offsets[r]; e < part.adjacency().offsets[r + 1]; ++e) {
        const int32_t c = part.adjacency().indices[e];
        EXPECT_TRUE(c >= 0 && c < count);
        const auto& a = halo.adjacency();
        EXPECT_TRUE(std::binary_search(a.indices.begin() + a.offsets[r], a.indices.begin() + a.offsets[r + 1],
                                       static_cast<int32_t>(c + first)));
      }
    }
    nnz += part.adjacency().nnz();
  }
  EXPECT_EQ(nnz, halo.adjacency().nnz());
  expect_error([&] { block.halo_columns(20, 11); }, {"halo columns [20, 31)", "30 halo columns"});
  expect_error([&] { halo.halo_columns(0, 1); }, {"a halo part has no halo columns of its own"});
}

// input_project against its unfused definition: values and the gradients of x, the weights and
// the addends, for each mix of ReLU and dropout, with two projections over different row counts
// (GraphSAGE's neighbour and root weights). More rows than one block (9216), so both passes go
// block by block, and a row count that ends inside a block.
// apply_input_ops draws ReLU and dropout in one pass: the same values and input gradient as
// at::relu followed by keyed_dropout, zeros and NaN included.
TEST(InputOps, ReluDropoutIsReluThenDropout) {
  constexpr int64_t n = 3000, F = 37;
  const at::Tensor ids = at::arange(500, 500 + n, at::kLong);
  at::Tensor x0 = at::rand({n, F}, at::kDouble) - 0.5;
  x0.view(-1).narrow(0, 0, 200).zero_();
  x0[7][3] = std::numeric_limits<double>::quiet_NaN();
  const at::Tensor f = at::rand({n, F}, at::kDouble);
  auto run = [&](bool fused) {
    const at::Tensor x = x0.clone().requires_grad_();
    const at::Tensor y = fused ? apply_input_ops(x, {true, KeyedDropout{0.4, 77, ids, true}})
                               : keyed_dropout(at::relu(x), 0.4, 77, ids, true);
    (y * f).sum().backward();
    return std::pair{y.detach(), x.grad()};
  };
  const auto [y, dx] = run(true);
  const auto [y_ref, dx_ref] = run(false);
  EXPECT_TRUE(at::equal(y.nan_to_num(-7), y_ref.nan_to_num(-7)));
  EXPECT_TRUE(at::equal(dx, dx_ref));
}

TEST(InputProject, IsTransformThenProject) {
  torch::manual_seed(3);
  constexpr int64_t n = 20000, rows = 9000;
  const at::Tensor ids = at::arange(1000, 1000 + n, at::kLong);
  for (const bool relu : {false, true}) {
    for (const bool training : {false, true}) {
      const InputOps ops{relu, KeyedDropout{0.4, 77, ids, training}};
      const at::Tensor x = (at::rand({n, 12}, at::kDouble) - 0.5).requires_grad_();
      const at::Tensor w1 = at::rand({12, 7}, at::kDouble).requires_grad_();
      const at::Tensor w2 = at::rand({12, 5}, at::kDouble).requires_grad_();
      const at::Tensor bias = at::rand({7}, at::kDouble).requires_grad_();
      const at::Tensor full = at::rand({rows, 5}, at::kDouble).requires_grad_();
      const at::Tensor f1 = at::rand({n, 7}, at::kDouble), f2 = at::rand({rows, 5}, at::kDouble);
      auto run = [&](bool fused) {
        for (const at::Tensor& t : {x, w1, w2, bias, full}) {
          if (t.grad().defined()) t.mutable_grad().zero_();
        }
        std::vector<at::Tensor> ys;
        if (fused) {
          ys = input_project(x, ops, {{w1, bias}, {w2, full, rows}});
        } else {
          const at::Tensor t = apply_input_ops(x, ops);
          ys = {project(t, w1, bias), project(t.narrow(0, 0, rows), w2, full)};
        }
        ((ys[0] * f1).sum() + (ys[1] * f2).sum()).backward();
        std::vector<at::Tensor> out = ys;
        for (const at::Tensor& t : {x, w1, w2, bias, full}) out.push_back(t.grad().clone());
        return out;
      };
      const std::vector<at::Tensor> fused = run(true), plain = run(false);
      for (size_t i = 0; i < fused.size(); ++i) {
        EXPECT_TRUE(at::allclose(fused[i], plain[i], 1e-12, 1e-12))
            << "relu " << relu << " training " << training << " output/gradient " << i;
      }
    }
  }
  const at::Tensor x = at::rand({n, 12}), w = at::rand({12, 7});
  expect_error(
      [&] {
        input_project(x, {false, KeyedDropout{0.4, 77, ids.narrow(0, 0, 3), true}}, {{w}});
      },
      {"input_project", "ids must be int64 of shape [20000]"});
  expect_error([&] { input_project(x, {}, {{w, {}, n + 1}}); }, {"input_project", "20001 rows", "20000 rows"});
  expect_error([&] { input_project(x, {}, {{at::rand({11, 7})}}); }, {"input_project"});
}

// The layers that fuse their input (ReLU and dropout into the projection) compute what they
// compute on the transformed copy, gradients included, projecting first or aggregating first.
TEST(InputProject, LayersFuseWhatTheyWouldApply) {
  torch::manual_seed(4);
  const Block block = random_block(40, 90, 6);
  const at::Tensor ids = block.node_ids();
  const InputOps ops{true, KeyedDropout{0.3, 9, ids, true}};
  for (const int64_t in : {4, 64}) {  // aggregates first at 4 -> 16, projects first at 64 -> 16
    GCNConv gcn(GCNConvOptions(in, 16));
    SAGEConv sage(SAGEConvOptions(in, 16));
    for (GraphLayer layer : {as_graph_layer(gcn), as_graph_layer(sage)}) {
      layer->to(at::kDouble);
      const at::Tensor x = (at::rand({block.num_cols(), in}, at::kDouble) - 0.5).requires_grad_();
      auto run = [&](bool fused) {
        layer->zero_grad();
        if (x.grad().defined()) x.mutable_grad().zero_();
        const at::Tensor y =
            fused ? layer->forward_fused(block, x, ops) : layer->forward(block, apply_input_ops(x, ops));
        y.square().sum().backward();
        std::vector<at::Tensor> out{y, x.grad().clone()};
        for (const at::Tensor& p : layer->parameters()) out.push_back(p.grad().clone());
        return out;
      };
      const std::vector<at::Tensor> fused = run(true), plain = run(false);
      for (size_t i = 0; i < fused.size(); ++i) {
        EXPECT_TRUE(at::allclose(fused[i], plain[i], 1e-10, 1e-12)) << layer->name() << " in " << in << " item " << i;
      }
    }
  }
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

// The Block's adjacency as a dense [rows, cols] matrix of ones (no self-loops).
at::Tensor dense_adjacency(const Block& block) {
  at::Tensor a = at::zeros({block.num_rows(), block.num_cols()}, at::kDouble);
  const Csr& csr = block.adjacency();
  for (int64_t r = 0; r < block.num_rows(); ++r) {
    for (int64_t e = csr.offsets[r]; e < csr.offsets[r + 1]; ++e) a[r][csr.indices[e]] = 1;
  }
  return a;
}

// Each built-in layer against its formula written densely, on a part-shaped Block.
TEST(BuiltinLayers, MatchTheirDenseFormulas) {
  const Block block = random_block(30, 55, 3, 9);
  torch::manual_seed(2);
  const at::Tensor x = at::randn({block.num_cols(), 6}, at::kDouble);
  const at::Tensor a = dense_adjacency(block);
  const int64_t rows = block.num_rows();
  // Full-graph in-degrees of every column; the layers scale by them in float32, as here.
  const at::Tensor degree = block.in_degree();

  // GCN: D^-1/2 (A + I) D^-1/2 X W + b, D the in-degree plus the self-loop.
  GCNConv gcn(6, 4);
  gcn->to(at::kDouble);
  const at::Tensor norm = (degree + 1).rsqrt().to(at::kDouble);
  const at::Tensor self = at::eye(rows, block.num_cols(), at::kDouble);
  const at::Tensor gcn_ref = norm.narrow(0, 0, rows).unsqueeze(1) * (a + self) * norm.unsqueeze(0);
  EXPECT_TRUE(at::allclose(gcn->forward(block, x), gcn_ref.mm(x.mm(gcn->weight)) + gcn->bias, 1e-10, 1e-12));

  // GraphSAGE (PyG's): the mean over the in-neighbours times W_n, plus x_v W_r, plus b.
  SAGEConv sage(6, 4);
  sage->to(at::kDouble);
  const at::Tensor mean = a * degree.narrow(0, 0, rows).clamp_min(1).reciprocal().to(at::kDouble).unsqueeze(1);
  const at::Tensor sage_ref =
      mean.mm(x).mm(sage->weight_neighbors) + x.narrow(0, 0, rows).mm(sage->weight_root) + sage->bias;
  EXPECT_TRUE(at::allclose(sage->forward(block, x), sage_ref, 1e-10, 1e-12));

  // GAT, 2 heads concatenated: alpha_vu = softmax over u in N(v) + {v} of
  // LeakyReLU(a_dst . W x_v + a_src . W x_u); y_v = sum alpha_vu W x_u, plus b.
  GATConv gat(GATConvOptions(6, 3).heads(2));
  gat->to(at::kDouble);
  gat->eval();
  const at::Tensor xw = x.mm(gat->weight).view({block.num_cols(), 2, 3});
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    const at::Tensor w = xw.select(1, h);
    const at::Tensor src = w.mv(gat->att_src[0][h]), dst = w.narrow(0, 0, rows).mv(gat->att_dst[0][h]);
    const at::Tensor logits = at::leaky_relu(dst.unsqueeze(1) + src.unsqueeze(0), 0.2);
    const at::Tensor alpha = logits.masked_fill((a + self) == 0, -INFINITY).softmax(1);
    heads.push_back(alpha.mm(w));
  }
  EXPECT_TRUE(at::allclose(gat->forward(block, x), at::cat(heads, 1) + gat->bias, 1e-10, 1e-12));
}

// Projecting first keeps only the layer's input until backward, so it is chosen also where it
// costs GEMMs over up to a quarter more rows; beyond that, and where aggregating first gathers a
// much narrower width, the order follows the work.
TEST(BuiltinLayers, ProjectFirstWhereItCostsLittleMoreWork) {
  EXPECT_TRUE(project_first(random_block(100, 100, 1), Loops::without, 64, 64));   // no halo: the same work
  EXPECT_TRUE(project_first(random_block(100, 120, 1), Loops::without, 64, 64));   // a fifth more rows
  EXPECT_FALSE(project_first(random_block(100, 150, 1), Loops::without, 64, 64));  // half as many more
  EXPECT_TRUE(project_first(random_block(100, 150, 1), Loops::without, 1024, 16));
  EXPECT_FALSE(project_first(random_block(100, 100, 1), Loops::without, 16, 1024));
}

// The short forms: a layer from (in, out), and a Model written as its layers.
TEST(BuiltinLayers, ShortFormsBuildTheSameModel) {
  torch::manual_seed(0);
  Model listed({GCNConv(8, 16), GCNConv(16, 3)});
  torch::manual_seed(0);
  Model built(ModelOptions().kind("gcn").in_features(8).hidden(16).out_features(3));
  ASSERT_EQ(listed->num_layers(), 2);
  const auto a = listed->named_parameters(), b = built->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(at::equal(p.value(), b[p.key()])) << p.key();
  const Block block = random_block(20, 20, 1);
  listed->eval(), built->eval();
  const at::Tensor x = at::randn({20, 8});
  EXPECT_TRUE(at::equal(listed->forward(block, x, 0), built->forward(block, x, 0)));
  EXPECT_EQ(SAGEConv(5, 7)->options.out_features(), 7);
  EXPECT_EQ(GATConv(5, 7)->out_features(), 7);
}

}  // namespace
}  // namespace halo
