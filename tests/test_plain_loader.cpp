#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include "datasets/plain_loader.h"
#include "test_support.h"

namespace halo {
namespace {

TEST(PlainLoader, LoadsCoraExactly) {
  const Dataset d = load_plain(test::dataset_dir("cora"));
  EXPECT_EQ(d.name, "cora");
  EXPECT_EQ(d.num_nodes(), 2708);
  EXPECT_EQ(d.graph.num_edges(), 10556);
  EXPECT_EQ(d.graph.num_self_loops(), 0);
  EXPECT_TRUE(d.graph.is_symmetric());
  EXPECT_EQ(d.num_features(), 1433);
  EXPECT_EQ(d.num_classes, 7);
  EXPECT_EQ(d.train_mask.sum().item<int64_t>(), 140);
  EXPECT_EQ(d.val_mask.sum().item<int64_t>(), 500);
  EXPECT_EQ(d.test_mask.sum().item<int64_t>(), 1000);
  EXPECT_EQ(d.features.sum().item<float>(), 49216.0f);  // binary bag of words, 49,216 non-zeros
  EXPECT_EQ(d.graph.with_self_loops(SelfLoops::add).num_edges(), 10556 + 2708);
}

TEST(PlainLoader, LoadsPubMedGraph) {
  const Dataset d = load_plain(test::dataset_dir("pubmed"));
  EXPECT_EQ(d.num_nodes(), 19717);
  EXPECT_EQ(d.graph.num_edges(), 88648);
  EXPECT_EQ(d.num_features(), 500);
  EXPECT_EQ(d.num_classes, 3);
}

// Every shipped dataset loads and matches the counts its converter wrote in meta.txt.
TEST(PlainLoader, LoadsEveryShippedDatasetAsItsMetaSays) {
  struct Expect {
    const char* name;
    int64_t nodes, directed_edges, features, classes, train, val, test;
  };
  for (const Expect& e : {Expect{"coauthor-cs", 18333, 163788, 6805, 15, 300, 450, 17583},
                          Expect{"amazon-photo", 7650, 238162, 745, 8, 160, 240, 7087}}) {
    const Dataset d = load_plain(test::dataset_dir(e.name));
    EXPECT_EQ(d.num_nodes(), e.nodes) << e.name;
    EXPECT_EQ(d.graph.num_edges(), e.directed_edges) << e.name;
    EXPECT_EQ(d.num_features(), e.features) << e.name;
    EXPECT_EQ(d.num_classes, e.classes) << e.name;
    EXPECT_EQ(d.train_mask.sum().item<int64_t>(), e.train) << e.name;
    EXPECT_EQ(d.val_mask.sum().item<int64_t>(), e.val) << e.name;
    EXPECT_EQ(d.test_mask.sum().item<int64_t>(), e.test) << e.name;
  }
}

class BadPlain : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.write("meta.txt", "name tiny\nnum_nodes 3\nnum_features 2\nnum_classes 2\n");
    dir.write("labels.txt", "0\n1\n1\n");
    dir.write("edges.txt", "0 1\n1 2\n");
    dir.write("features.txt", "0 0 1\n2 1 0.5\n");
    dir.write("train.txt", "0\n");
    dir.write("val.txt", "1\n");
    dir.write("test.txt", "2\n");
  }
  void expect(const std::string& file, const std::string& text, std::initializer_list<std::string> parts) {
    dir.write(file, text);
    test::expect_error([&] { load_plain(dir.path()); }, parts);
  }
  test::TempDir dir;
};

TEST_F(BadPlain, GoodFixtureLoads) {
  const Dataset d = load_plain(dir.path());
  EXPECT_EQ(d.graph.num_edges(), 4);
  EXPECT_FLOAT_EQ(d.features[2][1].item<float>(), 0.5f);
}

TEST_F(BadPlain, BadNumber) { expect("edges.txt", "0 1\n1 x2\n", {"edges.txt:2", "expected an integer", "'x2'"}); }
TEST_F(BadPlain, IdOutOfRange) {
  expect("edges.txt", "0 1\n1 3\n", {"edges.txt:2", "destination node id 3", "out of range [0, 3)"});
}
TEST_F(BadPlain, WrongColumnCount) {
  expect("edges.txt", "0 1 2\n", {"edges.txt:1", "expected 2 columns (src dst), found 3"});
}
TEST_F(BadPlain, FeatureIndexOutOfRange) {
  expect("features.txt", "0 2 1\n", {"features.txt:1", "feature index 2", "[0, 2)"});
}
TEST_F(BadPlain, BadFeatureValue) { expect("features.txt", "0 1 nan\n", {"features.txt:1", "finite number"}); }
TEST_F(BadPlain, NodeCountMismatch) {
  expect("meta.txt", "num_nodes 4\nnum_features 2\n", {"meta.txt", "num_nodes is 4 but labels.txt has 3 lines"});
}
TEST_F(BadPlain, LabelBeyondClasses) {
  expect("labels.txt", "0\n1\n2\n", {"labels.txt has class 2 but num_classes is 2"});
}
TEST_F(BadPlain, OverlappingSplits) {
  expect("test.txt", "2\n1\n", {"the val and test splits overlap in 1 nodes (first: node 1)"});
}
TEST_F(BadPlain, SplitIdOutOfRange) { expect("test.txt", "2\n7\n", {"test.txt:2", "node id 7"}); }
TEST_F(BadPlain, MissingFile) {
  std::filesystem::remove(dir.path("labels.txt"));
  test::expect_error([&] { load_plain(dir.path()); }, {"cannot open", "labels.txt"});
}
TEST_F(BadPlain, MissingMetaKey) { expect("meta.txt", "name x\n", {"meta.txt", "missing key 'num_features'"}); }
TEST_F(BadPlain, MetaLineWithoutValue) {
  expect("meta.txt", "num_features 2\nlonely\n", {"meta.txt:2", "expected 'key value'"});
}
TEST_F(BadPlain, MetaValuesMayHoldSpaces) {
  dir.write("meta.txt", "name two words\nnum_features 2\nraw_values 1.0 2.0 3.0\n");
  EXPECT_EQ(load_plain(dir.path()).name, "two words");
}

TEST(PlainLoader, SaveRoundTrip) {
  const Dataset d = load_plain(test::dataset_dir("cora"));
  test::TempDir dir;
  save_plain(d, dir.path("cora"));
  const Dataset back = load_plain(dir.path("cora"));
  EXPECT_EQ(back.graph, d.graph);
  EXPECT_TRUE(back.features.equal(d.features));
  EXPECT_TRUE(back.labels.equal(d.labels));
  EXPECT_TRUE(back.test_mask.equal(d.test_mask));
}

}  // namespace
}  // namespace halo
