#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/counter_rng.h"
#include "datasets/content_hash.h"
#include "datasets/graph.h"
#include "test_support.h"

namespace halo {
namespace {

EdgeList random_edges(int64_t n, int64_t m, uint64_t seed) {
  EdgeList e;
  e.num_nodes = n;
  CounterRng rng(seed);
  for (int64_t i = 0; i < m; ++i) {
    e.src.push_back(static_cast<int32_t>(rng.below(n)));
    e.dst.push_back(static_cast<int32_t>(rng.below(n)));
  }
  return e;
}

TEST(Graph, BuildsSortedUniqueRowsOfInEdges) {
  EdgeList e{4, {1, 0, 1, 2, 3, 3}, {0, 1, 0, 0, 3, 2}};
  const Graph g = Graph::from_edges(e);
  EXPECT_EQ(g.offsets(), (std::vector<int64_t>{0, 2, 3, 4, 5}));
  EXPECT_EQ(g.indices(), (std::vector<int32_t>{1, 2, 0, 3, 3}));
  EXPECT_EQ(g.num_self_loops(), 1);
  EXPECT_FALSE(g.is_symmetric());
  EXPECT_EQ(g.in_degrees(), (std::vector<int32_t>{2, 1, 1, 1}));
  EXPECT_EQ(g.out_degrees(), (std::vector<int32_t>{1, 1, 1, 2}));
}

TEST(Graph, SymmetriseDedupAndSelfLoops) {
  const EdgeList e = random_edges(200, 3000, 7);
  const Graph sym = Graph::from_edges(e, GraphOptions().symmetrize(true));
  EXPECT_TRUE(sym.is_symmetric());
  EXPECT_EQ(sym, Graph::from_edges(e).symmetrized());
  for (int32_t v = 0; v < sym.num_nodes(); ++v) {
    for (int32_t u : sym.in_neighbors(v)) {
      const auto back = sym.in_neighbors(u);
      EXPECT_TRUE(std::binary_search(back.begin(), back.end(), v));
    }
  }
  const Graph none = sym.with_self_loops(SelfLoops::remove);
  EXPECT_EQ(none.num_self_loops(), 0);
  const Graph all = sym.with_self_loops(SelfLoops::add);
  EXPECT_EQ(all.num_self_loops(), 200);
  EXPECT_EQ(all.num_edges(), none.num_edges() + 200);
  EXPECT_EQ(all.with_self_loops(SelfLoops::remove), none);
  all.check();
  // Duplicates collapse: the same edges twice give the same graph.
  EdgeList twice = e;
  twice.src.insert(twice.src.end(), e.src.begin(), e.src.end());
  twice.dst.insert(twice.dst.end(), e.dst.begin(), e.dst.end());
  EXPECT_EQ(Graph::from_edges(twice), Graph::from_edges(e));
}

TEST(Graph, RoundTripsThroughEdgeList) {
  const Graph g = Graph::from_edges(random_edges(50, 400, 3));
  EXPECT_EQ(Graph::from_edges(g.to_edges()), g);
}

TEST(Graph, EmptyAndIsolated) {
  const Graph empty = Graph::from_edges(EdgeList{0, {}, {}});
  EXPECT_EQ(empty.num_nodes(), 0);
  const Graph isolated = Graph::from_edges(EdgeList{5, {}, {}});
  EXPECT_EQ(isolated.num_nodes(), 5);
  EXPECT_EQ(isolated.num_edges(), 0);
  EXPECT_TRUE(isolated.is_symmetric());
}

TEST(Graph, RefusesBadInput) {
  test::expect_error([] { Graph::from_edges(EdgeList{3, {0, 5}, {1, 1}}); }, {"edge 1", "5 -> 1", "outside [0, 3)"});
  test::expect_error(
      [] {
        Graph::from_edges(EdgeList{int64_t{1} << 31, {}, {}});
      },
      {"2147483648 nodes", "32-bit node ids"});
  test::expect_error([] { Graph({0, 2, 1}, {0, 1}); }, {"last offset 1"});
  test::expect_error([] { Graph({0, 2, 2}, {1, 0}); }, {"row 0 is not sorted"});
  test::expect_error([] { Graph({0, 1, 2}, {0, 9}); }, {"row 1 has source 9"});
  test::expect_error([] { Graph({1, 1}, {}); }, {"offsets must start at 0"});
}

}  // namespace
}  // namespace halo

namespace halo {
namespace {

// Three nodes on a path, two classes: the shape every loader's dataset passes through check().
Dataset three_nodes() {
  EdgeList e;
  e.num_nodes = 3;
  e.src = {0, 1};
  e.dst = {1, 2};
  Dataset d;
  d.name = "three";
  d.graph = Graph::from_edges(e, GraphOptions().symmetrize(true));
  d.features = at::ones({3, 2}, at::kFloat);
  d.labels = at::tensor(std::vector<int64_t>{0, 1, -1});
  d.num_classes = 2;
  d.train_mask = mask_from_ids({0}, 3);
  d.val_mask = mask_from_ids({1}, 3);
  d.test_mask = mask_from_ids({}, 3);
  return d;
}

// The one check every loader (plain, binary, OGB, generators, shards) applies, case by case.
TEST(DatasetCheck, RefusesEveryBadValue) {
  EXPECT_NO_THROW(three_nodes().check("three"));
  auto expect = [](const std::function<void(Dataset&)>& edit, std::initializer_list<std::string> parts) {
    Dataset d = three_nodes();
    edit(d);
    test::expect_error([&] { d.check("where"); }, {"where: "});
    test::expect_error([&] { d.check("where"); }, parts);
  };
  expect([](Dataset& d) { d.features[2][1] = std::nanf(""); }, {"1 values are NaN or infinite", "node 2, feature 1"});
  expect([](Dataset& d) { d.labels[1] = 2; }, {"labels must lie in [0, 2)", "node 1 has label 2"});
  expect([](Dataset& d) { d.labels[2] = -3; }, {"node 2 has label -3"});
  expect([](Dataset& d) { d.num_classes = kMaxClasses + 1; }, {"num_classes must lie in [0, 65536], got 65537"});
  expect([](Dataset& d) { d.test_mask = mask_from_ids({2}, 3); }, {"node 2 is in the test split but has no label"});
  expect([](Dataset& d) { d.val_mask = mask_from_ids({0, 1}, 3); },
         {"the train and val splits overlap in 1 nodes (first: node 0)"});
  expect([](Dataset& d) { d.features = d.features.narrow(0, 0, 2); }, {"features must be a float32 matrix with 3 rows"});
}

TEST(ContentHash, FollowsEveryValueAndNotTheName) {
  const Dataset a = three_nodes();
  Dataset b = three_nodes();
  b.name = "renamed";
  EXPECT_EQ(content_hash(a), content_hash(b));
  b.features[0][0] = 2.0f;
  EXPECT_NE(content_hash(a), content_hash(b));
  b = three_nodes();
  b.val_mask = mask_from_ids({}, 3);
  EXPECT_NE(content_hash(a), content_hash(b));
  // Over several blocks, and with a tail that is not a whole word.
  std::vector<uint8_t> bytes(3 * (size_t{1} << 20) + 5, 1);
  const uint64_t h = hash_bytes(bytes.data(), bytes.size(), 0);
  EXPECT_EQ(h, hash_bytes(bytes.data(), bytes.size(), 0));
  bytes.back() = 2;
  EXPECT_NE(h, hash_bytes(bytes.data(), bytes.size(), 0));
  EXPECT_NE(h, hash_bytes(bytes.data(), bytes.size(), 1));
  EXPECT_EQ(hash_string(0xabc), "0000000000000abc");
}

}  // namespace
}  // namespace halo
