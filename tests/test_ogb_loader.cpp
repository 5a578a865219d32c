#include <ATen/Functions.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "datasets/ogb_loader.h"
#include "test_support.h"

namespace halo {
namespace {
namespace fs = std::filesystem;

// Writes `text` gzip-compressed to `path` (creating folders).
void write_gz(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return;
  const int size = static_cast<int>(text.size());
  if (size > 0) EXPECT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(size)), size);
  EXPECT_EQ(gzclose(f), Z_OK);
}

// Feature j of node v in the fixture: exact in binary and in decimal.
float feature(int64_t v, int64_t j) { return static_cast<float>(v) + 0.25f * static_cast<float>(j) - 1.0f; }

// Six nodes, three features. Edges: a triangle 0-1-2 given one way, 3 -> 4, 5 -> 3, a
// duplicate 0 -> 1 and a self-loop 4 -> 4. Node 2 and node 4 are unlabelled.
class OgbFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    write("raw/edge.csv.gz", "0,1\n1,2\n2,0\n3,4\n4,4\n5,3\n0,1\n");
    write("raw/num-node-list.csv.gz", "6\n");
    write("raw/num-edge-list.csv.gz", "7\n");
    std::string feat;
    for (int v = 0; v < 6; ++v) {
      feat += fmt::format("{},{},{}\n", feature(v, 0), feature(v, 1), feature(v, 2));
    }
    write("raw/node-feat.csv.gz", feat);
    write("raw/node-label.csv.gz", "0\n2\nnan\n1\n\n2\n");
    write_split("time", "0\n1\n", "3\n", "5\n");
  }
  // The dataset folder, and the full path of one of its files.
  std::string root() const { return dir.path("ogbn_tiny"); }
  std::string path(const std::string& file) const { return dir.path("ogbn_tiny/" + file); }
  std::string write(const std::string& file, const std::string& text) {
    write_gz(path(file), text);
    return path(file);
  }
  void write_split(const std::string& name, const std::string& train, const std::string& valid,
                   const std::string& test) {
    write("split/" + name + "/train.csv.gz", train);
    write("split/" + name + "/valid.csv.gz", valid);
    write("split/" + name + "/test.csv.gz", test);
  }
  // Replaces `file` by `text` and expects loading to fail with a message holding the full path
  // of `file` followed by `location` (":line" or ""), and every piece of `parts`.
  void expect(const std::string& file, const std::string& text, const std::string& location,
              std::initializer_list<std::string> parts) {
    write(file, text);
    expect_failure(file, location, parts);
  }
  void expect_failure(const std::string& file, const std::string& location, std::initializer_list<std::string> parts) {
    test::expect_error([&] { load_ogb(root()); }, {path(file) + location});
    if (parts.size() != 0) test::expect_error([&] { load_ogb(root()); }, parts);
  }
  static std::vector<bool> mask(const at::Tensor& m) {
    return std::vector<bool>(m.data_ptr<bool>(), m.data_ptr<bool>() + m.numel());
  }
  test::TempDir dir;
};

TEST_F(OgbFixture, LoadsExactly) {
  const Dataset d = load_ogb(root());
  EXPECT_EQ(d.name, "ogbn_tiny");
  EXPECT_EQ(d.num_nodes(), 6);
  // Symmetrised in-edge CSR without the self-loop and the duplicate.
  EXPECT_EQ(d.graph.offsets(), (std::vector<int64_t>{0, 2, 4, 6, 8, 9, 10}));
  EXPECT_EQ(d.graph.indices(), (std::vector<int32_t>{1, 2, 0, 2, 0, 1, 4, 5, 3, 3}));
  ASSERT_EQ(d.features.sizes(), (std::vector<int64_t>{6, 3}));
  for (int v = 0; v < 6; ++v) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(d.features[v][j].item<float>(), feature(v, j)) << v << "," << j;
  }
  const at::Tensor labels = at::tensor(std::vector<int64_t>{0, 2, -1, 1, -1, 2});
  EXPECT_TRUE(d.labels.equal(labels)) << d.labels;
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(mask(d.train_mask), (std::vector<bool>{1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(mask(d.val_mask), (std::vector<bool>{0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(mask(d.test_mask), (std::vector<bool>{0, 0, 0, 0, 0, 1}));
}

TEST_F(OgbFixture, KeepsDirectionWithoutSymmetrize) {
  const Dataset d = load_ogb(root(), OgbOptions().symmetrize(false));
  // Row v lists the sources of edges u -> v.
  EXPECT_EQ(d.graph.offsets(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 5}));
  EXPECT_EQ(d.graph.indices(), (std::vector<int32_t>{2, 0, 1, 5, 3}));
  EXPECT_FALSE(d.graph.is_symmetric());
  EXPECT_EQ(d.graph.num_self_loops(), 0);
}

TEST_F(OgbFixture, NameIsFolderBasename) {
  EXPECT_EQ(load_ogb(root() + "/").name, "ogbn_tiny");
  EXPECT_EQ(load_ogb(root() + "/raw/..").name, "ogbn_tiny");
}

TEST_F(OgbFixture, EdgeCountFileIsOptional) {
  fs::remove(path("raw/num-edge-list.csv.gz"));
  EXPECT_EQ(load_ogb(root()).graph.num_edges(), 10);
}

TEST_F(OgbFixture, PicksNamedSplit) {
  write_split("random", "5\n", "0\n1\n", "3\n");
  const Dataset d = load_ogb(root(), OgbOptions().split("random"));
  EXPECT_EQ(mask(d.train_mask), (std::vector<bool>{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(mask(d.val_mask), (std::vector<bool>{1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(mask(d.test_mask), (std::vector<bool>{0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(mask(load_ogb(root(), OgbOptions().split("time")).train_mask), (std::vector<bool>{1, 1, 0, 0, 0, 0}));
}

TEST_F(OgbFixture, SeveralSplitsNeedAName) {
  write_split("random", "5\n", "0\n", "3\n");
  test::expect_error([&] { load_ogb(root()); },
                     {path("split"), "several split folders (random, time)", "OgbOptions().split"});
}

TEST_F(OgbFixture, UnknownSplitListsChoices) {
  test::expect_error([&] { load_ogb(root(), OgbOptions().split("species")); },
                     {path("split"), "no split folder 'species' (found: time)"});
}

TEST_F(OgbFixture, NoSplitFolder) {
  fs::remove_all(path("split/time"));
  test::expect_error([&] { load_ogb(root()); }, {path("split"), "expected a split folder", "found none"});
}

TEST_F(OgbFixture, RecognisesFolder) {
  EXPECT_TRUE(is_ogb_dir(root()));
  EXPECT_FALSE(is_ogb_dir(path("raw")));
  EXPECT_FALSE(is_ogb_dir(path("absent")));
}

TEST_F(OgbFixture, BadNumber) {
  expect("raw/edge.csv.gz", "0,1\n1,x2\n", ":2", {"expected an integer destination node id", "'x2'"});
}
TEST_F(OgbFixture, BadFeatureValue) {
  expect("raw/node-feat.csv.gz", "1,2,3\n1,2,3\n1,oops,3\n1,2,3\n1,2,3\n1,2,3\n", ":3",
         {"expected a finite number feature value in column 2", "'oops'"});
}
TEST_F(OgbFixture, BadLabel) {
  expect("raw/node-label.csv.gz", "0\n1\n1.5\n1\n1\n1\n", ":3", {"expected an integer class id"});
}
TEST_F(OgbFixture, NegativeLabel) {
  expect("raw/node-label.csv.gz", "0\n1\n-2\n1\n1\n1\n", ":3", {"expected a class id >= 0", "got -2"});
}
TEST_F(OgbFixture, BadNodeCount) {
  expect("raw/num-node-list.csv.gz", "six\n", ":1", {"expected an integer node count"});
}
TEST_F(OgbFixture, NodeCountBeyond32Bits) {
  expect("raw/num-node-list.csv.gz", "3000000000\n", ":1", {"3000000000 nodes do not fit Halo's 32-bit node ids"});
}
TEST_F(OgbFixture, EmptyNodeCount) {
  expect("raw/num-node-list.csv.gz", "", ":1", {"expected one line with the node count", "ends after 0 lines"});
}
TEST_F(OgbFixture, SourceIdOutOfRange) {
  expect("raw/edge.csv.gz", "0,1\n6,2\n", ":2", {"source node id 6 in column 1 is out of range [0, 6)"});
}
TEST_F(OgbFixture, DestinationIdOutOfRange) {
  expect("raw/edge.csv.gz", "0,1\n1,-1\n", ":2", {"destination node id -1 in column 2 is out of range [0, 6)"});
}
TEST_F(OgbFixture, SplitIdOutOfRange) {
  expect("split/time/test.csv.gz", "5\n9\n", ":2", {"node id 9 in column 1 is out of range [0, 6)"});
}
TEST_F(OgbFixture, EdgeColumnCount) {
  expect("raw/edge.csv.gz", "0,1\n0,1,2\n", ":2", {"expected 2 columns (src,dst), found 3"});
}
TEST_F(OgbFixture, FeatureColumnCount) {
  expect("raw/node-feat.csv.gz", "1,2,3\n1,2,3\n1,2,3\n1,2\n1,2,3\n1,2,3\n", ":4",
         {"expected 3 columns (feature values, as on line 1), found 2"});
}
TEST_F(OgbFixture, FewerFeatureRowsThanNodes) {
  expect("raw/node-feat.csv.gz", "1\n2\n3\n4\n5\n", ":6",
         {"expected 6 rows, one per node (the node count in " + path("raw/num-node-list.csv.gz") + ")",
          "ends after 5 lines"});
}
TEST_F(OgbFixture, MoreLabelRowsThanNodes) {
  expect("raw/node-label.csv.gz", "0\n0\n0\n0\n0\n0\n0\n", ":7",
         {"expected 6 rows, one per node (the node count in " + path("raw/num-node-list.csv.gz") + "), found more"});
}
TEST_F(OgbFixture, EdgeCountMismatch) {
  expect("raw/num-edge-list.csv.gz", "8\n", "",
         {path("raw/edge.csv.gz") + ":8",
          "expected 8 edges (the edge count in " + path("raw/num-edge-list.csv.gz") + ")", "ends after 7 lines"});
  expect("raw/num-edge-list.csv.gz", "6\n", "", {path("raw/edge.csv.gz") + ":7", "expected 6 edges", "found more"});
}
TEST_F(OgbFixture, UnlabelledNodeInSplit) {
  expect("split/time/train.csv.gz", "0\n4\n", ":2", {"node 4 is in the train split but has no label"});
}
TEST_F(OgbFixture, OverlappingSplits) {
  write("split/time/test.csv.gz", "5\n0\n");
  test::expect_error([&] { load_ogb(root()); }, {root(), "the train and test splits overlap in 1 nodes (first: node 0)"});
}
TEST_F(OgbFixture, MissingFile) {
  fs::remove(path("raw/node-label.csv.gz"));
  expect_failure("raw/node-label.csv.gz", "", {"cannot open", "No such file"});
}
TEST_F(OgbFixture, MissingSplitFile) {
  fs::remove(path("split/time/valid.csv.gz"));
  expect_failure("split/time/valid.csv.gz", "", {"cannot open"});
}
TEST_F(OgbFixture, MissingFolder) {
  test::expect_error([&] { load_ogb(path("nowhere")); }, {path("nowhere"), "no such dataset folder"});
}

// A gzip stream cut short must fail, not read as a shorter file: zlib reports it as a soft
// Z_BUF_ERROR that TextReader turns into an error.
TEST_F(OgbFixture, TruncatedGzipMidStream) {
  fs::remove(path("raw/num-edge-list.csv.gz"));
  std::mt19937 rng(7);
  std::string edges;
  for (int i = 0; i < 20000; ++i) edges += fmt::format("{},{}\n", rng() % 6, rng() % 6);
  const std::string file = write("raw/edge.csv.gz", edges);
  ASSERT_NO_THROW(load_ogb(root()));
  fs::resize_file(file, fs::file_size(file) / 2);
  expect_failure("raw/edge.csv.gz", ": compressed data is truncated after line ", {});
}

TEST_F(OgbFixture, TruncatedGzipTrailer) {
  const std::string file = path("raw/node-feat.csv.gz");
  fs::resize_file(file, fs::file_size(file) - 4);  // only the length word of the trailer is lost
  expect_failure("raw/node-feat.csv.gz", ": compressed data is truncated after line 6", {});
}

TEST_F(OgbFixture, TruncatedGzipHeader) {
  fs::resize_file(path("raw/node-label.csv.gz"), 5);
  expect_failure("raw/node-label.csv.gz", ": compressed data is truncated after line 0", {});
}

TEST_F(OgbFixture, CorruptGzip) {
  {
    std::fstream f(path("raw/node-label.csv.gz"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-6, std::ios::end);  // inside the CRC-32 of the trailer
    f.put('\xff');
  }
  expect_failure("raw/node-label.csv.gz", ": corrupt or unreadable data after line ", {"incorrect data check"});
}

}  // namespace
}  // namespace halo
