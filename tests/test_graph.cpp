#include <gtest/gtest.h>

#include "core/counter_rng.h"
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
