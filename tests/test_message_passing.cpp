// The general message path (gcn/message_passing.h) against a loop over the adjacency and against
// finite differences; halo::Dropout's keyed masks and the Model's refusal of unkeyed ones; clones
// of every built-in layer and of a user's.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <limits>

#include "core/counter_rng.h"
#include "edge_conv_layer.h"
#include "gcn/gat_conv.h"
#include "gcn/gcn_conv.h"
#include "gcn/model.h"
#include "gcn/sage_conv.h"
#include "random_blocks.h"
#include "test_support.h"

namespace halo {
namespace {

using test::EdgeConv;
using test::EdgeConvOptions;
using test::expect_error;
using test::random_block;

// Row v reduces m(u, v) over its entries, one at a time; 0 for a row without any.
at::Tensor reduce_by_loop(const Block& block, Loops loops, Reduce reduce,
                          const std::function<at::Tensor(int64_t u, int64_t v)>& m) {
  const Csr& a = adjacency(block, loops);
  std::vector<at::Tensor> rows;
  for (int64_t v = 0; v < a.rows(); ++v) {
    at::Tensor acc;
    for (int64_t e = a.offsets[v]; e < a.offsets[v + 1]; ++e) {
      const at::Tensor t = m(a.indices[e], v);
      acc = !acc.defined()          ? t.clone()
            : reduce == Reduce::max ? at::maximum(acc, t)
            : reduce == Reduce::min ? at::minimum(acc, t)
                                    : acc + t;
    }
    const int64_t n = a.offsets[v + 1] - a.offsets[v];
    if (n > 0 && reduce == Reduce::mean) acc = acc / static_cast<double>(n);
    rows.push_back(n > 0 ? acc : at::zeros_like(m(0, 0)));
  }
  return at::stack(rows);
}

constexpr Reduce kReductions[] = {Reduce::sum, Reduce::mean, Reduce::max, Reduce::min};

TEST(MessagePath, StepsMatchALoopOverTheEntries) {
  const Block block = random_block(30, 55, 4, 6);
  torch::manual_seed(1);
  const at::Tensor x = at::randn({block.num_cols(), 3, 2}, at::kDouble);
  for (const Loops loops : {Loops::without, Loops::with}) {
    const at::Tensor src = gather_sources(block, loops, x), dst = gather_destinations(block, loops, x);
    ASSERT_EQ(src.size(0), adjacency(block, loops).nnz());
    for (const Reduce reduce : kReductions) {
      SCOPED_TRACE(testing::Message() << "loops " << (loops == Loops::with) << " reduce " << static_cast<int>(reduce));
      const at::Tensor y = reduce_messages(block, loops, src * dst.narrow(0, 0, src.size(0)), reduce);
      const at::Tensor expected =
          reduce_by_loop(block, loops, reduce, [&](int64_t u, int64_t v) { return x[u] * x[v]; });
      EXPECT_TRUE(at::allclose(y, expected, 1e-12, 1e-12));
    }
    // The sum of gathered sources is aggregate's.
    EXPECT_TRUE(at::allclose(reduce_messages(block, loops, gather_sources(block, loops, x.view({-1, 6})), Reduce::sum),
                             aggregate(block, loops, x.view({-1, 6})), 1e-12, 1e-12));
  }
  // Destinations from rows alone ([rows, ...]) are those from all the columns.
  EXPECT_TRUE(at::equal(gather_destinations(block, Loops::with, x.narrow(0, 0, block.num_rows())),
                        gather_destinations(block, Loops::with, x)));
}

// Central differences of sum(f(x) * factors), in float64, element by element.
at::Tensor numeric_gradient(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x,
                            const at::Tensor& factors) {
  torch::NoGradGuard no_grad;
  at::Tensor grad = at::zeros_like(x);
  at::Tensor probe = x.clone();
  const double h = 1e-6;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double saved = probe.view(-1)[i].item<double>();
    probe.view(-1)[i] = saved + h;
    const double up = (f(probe) * factors).sum().item<double>();
    probe.view(-1)[i] = saved - h;
    const double down = (f(probe) * factors).sum().item<double>();
    probe.view(-1)[i] = saved;
    grad.view(-1)[i] = (up - down) / (2 * h);
  }
  return grad;
}

void expect_gradient_matches(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x0) {
  const at::Tensor x = x0.clone().requires_grad_(true);
  const at::Tensor y = f(x);
  const at::Tensor factors = at::randn_like(y);
  (y * factors).sum().backward();
  const at::Tensor numeric = numeric_gradient(f, x0, factors);
  EXPECT_TRUE(at::allclose(x.grad(), numeric, 1e-6, 1e-7)) << "autograd\n" << x.grad() << "\nnumeric\n" << numeric;
}

TEST(MessagePath, GradientsMatchFiniteDifferences) {
  const Block block = random_block(12, 20, 7, 4);
  torch::manual_seed(3);
  const at::Tensor x = at::randn({block.num_cols(), 3}, at::kDouble);
  for (const Loops loops : {Loops::without, Loops::with}) {
    for (const Reduce reduce : kReductions) {
      SCOPED_TRACE(testing::Message() << "loops " << (loops == Loops::with) << " reduce " << static_cast<int>(reduce));
      // A message that depends on both ends, non-linearly.
      expect_gradient_matches(
          [&](const at::Tensor& in) {
            const at::Tensor m =
                at::tanh(gather_sources(block, loops, in) - 0.5 * gather_destinations(block, loops, in)) *
                gather_sources(block, loops, in);
            return reduce_messages(block, loops, m, reduce);
          },
          x);
    }
  }
  // A whole layer, its keyed dropout drawing the same mask in every evaluation.
  EdgeConv layer(EdgeConvOptions(3, 4).dropout(0.3));
  layer->to(at::kDouble);
  layer->set_random_key(11);
  expect_gradient_matches([&](const at::Tensor& in) { return layer->forward(block, in); }, x);
}

TEST(MessagePath, EmptyRowsGetZeroAndNoGradient) {
  const Block block = random_block(10, 16, 2);  // row 0 has no entries
  ASSERT_EQ(block.adjacency().offsets[1], 0);
  const at::Tensor x = at::randn({block.num_cols(), 2}, at::kDouble).requires_grad_(true);
  for (const Reduce reduce : kReductions) {
    const at::Tensor y = reduce_messages(block, Loops::without, gather_sources(block, Loops::without, x), reduce);
    EXPECT_TRUE(at::equal(y[0], at::zeros({2}, at::kDouble)));
    x.mutable_grad() = at::Tensor();
    y.sum().backward();
    EXPECT_TRUE(at::isfinite(x.grad()).all().item<bool>());
  }
  // A Block without any entry.
  const Block empty(Csr{4, std::vector<int64_t>(5, 0), {}, {}}, std::vector<int32_t>(4), std::vector<int32_t>(4),
                    {0, 1, 2, 3});
  EXPECT_TRUE(at::equal(reduce_messages(empty, Loops::without, at::zeros({0, 3}), Reduce::max), at::zeros({4, 3})));
}

TEST(MessagePath, RefusesMisshapenInputsNamingTheStep) {
  const Block block = random_block(10, 16, 2);
  expect_error(
      [&] {
        gather_sources(block, Loops::without, at::zeros({10, 3}));
      },
      {"gather_sources: x has shape [10, 3], expected 16 rows (one per Block column)"});
  expect_error(
      [&] {
        gather_destinations(block, Loops::with, at::zeros({12, 3}));
      },
      {"gather_destinations: x has shape [12, 3], expected 10 or 16 rows"});
  expect_error(
      [&] {
        reduce_messages(block, Loops::with, at::zeros({3, 2}), Reduce::sum);
      },
      {"reduce_messages: messages has shape [3, 2]", "one per entry of the adjacency"});
  expect_error(
      [&] {
        gather_sources(block, Loops::with, at::zeros({16, 2}, at::kLong));
      },
      {"gather_sources: x has dtype Long, expected a floating-point one"});
}

TEST(KeyedDropoutModule, DropsByNodeIdWithTheLayersKey) {
  const Block block = random_block(20, 35, 5);
  const at::Tensor x = at::ones({block.num_cols(), 64});
  EdgeConv layer(EdgeConvOptions(64, 4).dropout(0.5));
  layer->set_random_key(99);
  // The layer's first Dropout draws from stream_key(key, 1), by global node id.
  const at::Tensor dropped = layer->drop(block, x);
  EXPECT_TRUE(at::equal(dropped, keyed_dropout(x, 0.5, stream_key(99, 1), block.node_ids(), true)));
  EXPECT_GT(dropped.eq(0).sum().item<int64_t>(), 0);
  // A row is dropped alike whether x holds the rows or all the columns.
  EXPECT_TRUE(at::equal(layer->drop(block, x.narrow(0, 0, block.num_rows())), dropped.narrow(0, 0, block.num_rows())));
  layer->eval();
  EXPECT_TRUE(at::equal(layer->drop(block, x), x));
  expect_error(
      [&] {
        layer->drop(block, at::ones({3, 2}));
      },
      {"halo::Dropout: x must have one row per Block row (20) or column (35), got 3 rows"});
  expect_error([] { Dropout(1.0); }, {"halo::Dropout: p must be in [0, 1), got 1"});
}

// A user's layer with LibTorch's dropout, whose mask differs between a part and the whole graph.
class UnkeyedImpl : public GraphLayerImpl {
 public:
  UnkeyedImpl() {
    mlp = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(4, 4), torch::nn::Dropout(0.5)));
  }
  at::Tensor forward(const Block& block, const at::Tensor& x) override {
    return mlp->forward(x.narrow(0, 0, block.num_rows()));
  }
  int64_t out_features() const override { return 4; }
  void reset_parameters() override {}
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(Unkeyed);

TEST(KeyedDropoutModule, ModelRefusesUnkeyedDropout) {
  expect_error(
      [] {
        Model({GCNConv(4, 4), Unkeyed()});
      },
      {"model: layer 1", "submodule 'mlp.1' is a torch::nn::DropoutImpl", "use halo::Dropout"});
}

// The clone answers as the original, and shares nothing with it.
void expect_independent_clone(GraphLayerImpl& layer, int64_t in) {
  const Block block = random_block(15, 25, 9);
  torch::manual_seed(4);
  const at::Tensor x = at::randn({block.num_cols(), in});
  layer.eval();
  const auto copy = std::dynamic_pointer_cast<GraphLayerImpl>(layer.clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_FALSE(copy->is_training());
  EXPECT_EQ(copy->name(), layer.name());
  EXPECT_TRUE(at::equal(copy->forward(block, x), layer.forward(block, x)));
  const auto params = layer.parameters(), copied = copy->parameters();
  ASSERT_EQ(params.size(), copied.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_NE(params[i].data_ptr(), copied[i].data_ptr());
    EXPECT_EQ(params[i].requires_grad(), copied[i].requires_grad());
  }
  torch::NoGradGuard no_grad;
  for (at::Tensor p : copied) p.add_(1);
  EXPECT_FALSE(at::equal(copy->forward(block, x), layer.forward(block, x)));
}

TEST(Clone, EveryBuiltinLayerAndAUsersLayer) {
  expect_independent_clone(*GCNConv(6, 5), 6);
  expect_independent_clone(*SAGEConv(6, 5), 6);
  expect_independent_clone(*GATConv(GATConvOptions(6, 5).heads(2)), 6);
  expect_independent_clone(*EdgeConv(EdgeConvOptions(6, 5).dropout(0.2)), 6);
}

}  // namespace
}  // namespace halo
