#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/archive.h"
#include "datasets/binary_cache.h"
#include "datasets/plain_loader.h"
#include "test_support.h"

namespace halo {
namespace {
namespace fs = std::filesystem;

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.num_classes, b.num_classes);
  EXPECT_EQ(a.graph, b.graph);
  EXPECT_TRUE(a.features.equal(b.features));
  EXPECT_TRUE(a.labels.equal(b.labels));
  EXPECT_TRUE(a.train_mask.equal(b.train_mask));
  EXPECT_TRUE(a.val_mask.equal(b.val_mask));
  EXPECT_TRUE(a.test_mask.equal(b.test_mask));
}

// Five nodes on a symmetric path, three features, node 2 unlabelled.
Dataset tiny() {
  EdgeList e;
  e.num_nodes = 5;
  e.src = {0, 1, 2, 3};
  e.dst = {1, 2, 3, 4};
  Dataset d;
  d.name = "tiny";
  d.graph = Graph::from_edges(e, GraphOptions().symmetrize(true));
  d.features = at::arange(15, at::kFloat).reshape({5, 3});
  d.labels = at::tensor(std::vector<int64_t>{0, 1, -1, 1, 0});
  d.num_classes = 2;
  d.train_mask = mask_from_ids({0, 1}, 5);
  d.val_mask = mask_from_ids({3}, 5);
  d.test_mask = mask_from_ids({4}, 5);
  return d;
}

// The sections save_binary writes, laid out by hand so a test can break any one of them.
struct Sections {
  explicit Sections(const Dataset& d)
      : meta{{"name", d.name},
             {"num_nodes", d.num_nodes()},
             {"num_edges", d.graph.num_edges()},
             {"num_features", d.num_features()},
             {"num_classes", d.num_classes}},
        offsets(d.graph.offsets()),
        indices(d.graph.indices()),
        features(d.features),
        labels(d.labels),
        masks{d.train_mask, d.val_mask, d.test_mask} {}

  std::string write(const test::TempDir& dir, uint32_t version = kDatasetFormatVersion) const {
    const std::string path = dir.path("crafted.halo");
    ArchiveWriter w(path, "HALODSET", version);
    w.add_json("meta", meta);
    w.add("offsets", offsets);
    w.add("indices", indices);
    w.add("features", features);
    w.add("labels", labels);
    w.add("train_mask", masks[0]);
    w.add("val_mask", masks[1]);
    w.add("test_mask", masks[2]);
    w.finish();
    return path;
  }

  nlohmann::json meta;
  std::vector<int64_t> offsets;
  std::vector<int32_t> indices;
  at::Tensor features, labels, masks[3];
};

// Byte offset of section `name`'s data, from the archive's table.
uint64_t section_offset(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  char header[24];
  in.read(header, sizeof header);
  uint32_t count = 0;
  std::memcpy(&count, header + 12, sizeof count);
  for (uint32_t i = 0; i < count; ++i) {
    ArchiveEntry e;
    in.read(reinterpret_cast<char*>(&e), sizeof e);
    if (name == e.name) return e.offset;
  }
  ADD_FAILURE() << "no section " << name;
  return 0;
}

TEST(BinaryCache, RoundTripsCora) {
  const Dataset d = load_plain(test::dataset_dir("cora"));
  test::TempDir dir;
  const std::string path = dir.path("cora.halo");
  save_binary(d, path);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(is_binary_dataset(path));
  const Dataset back = load_binary(path);
  expect_same(back, d);
  EXPECT_EQ(back.name, "cora");
  EXPECT_EQ(back.num_classes, 7);
}

TEST(BinaryCache, OverwritesAndMatchesHandLayout) {
  test::TempDir dir;
  const Dataset d = tiny();
  const std::string path = dir.path("tiny.halo");
  dir.write("tiny.halo", "an older file");
  save_binary(d, path);
  expect_same(load_binary(path), d);
  // The crafted files of the tests below differ from save_binary's only where a test breaks them.
  expect_same(load_binary(Sections(d).write(dir)), d);
}

TEST(BinaryCache, RecognisesFiles) {
  test::TempDir dir;
  save_binary(tiny(), dir.path("tiny.halo"));
  EXPECT_TRUE(is_binary_dataset(dir.path("tiny.halo")));
  EXPECT_FALSE(is_binary_dataset(dir.write("text.txt", "HALODS is not the magic")));
  EXPECT_FALSE(is_binary_dataset(dir.write("short.bin", "HALO")));
  EXPECT_FALSE(is_binary_dataset(dir.path()));
  EXPECT_FALSE(is_binary_dataset(dir.path("absent.halo")));
}

TEST(BinaryCache, SaveChecksTheDataset) {
  test::TempDir dir;
  Dataset d = tiny();
  d.num_classes = 1;
  test::expect_error([&] { save_binary(d, dir.path("bad.halo")); }, {"saving", "labels must lie in [0, 1)"});
  EXPECT_FALSE(fs::exists(dir.path("bad.halo")));
}

class BinaryCacheBad : public ::testing::Test {
 protected:
  // Writes `s` and expects load_binary to fail naming the file and every piece of `parts`.
  void expect(const Sections& s, std::initializer_list<std::string> parts) {
    const std::string path = s.write(dir);
    test::expect_error([&] { load_binary(path); }, {path});
    test::expect_error([&] { load_binary(path); }, parts);
  }
  test::TempDir dir;
  Sections good{tiny()};
};

TEST_F(BinaryCacheBad, WrongMagic) {
  const std::string path = dir.write("cora.txt", "0 1\n1 2\n2 3\nthis is a text file, not a cache\n");
  test::expect_error([&] { load_binary(path); }, {path, "not a Halo dataset file (expected magic 'HALODSET'"});
}

TEST_F(BinaryCacheBad, WrongVersion) {
  const std::string path = good.write(dir, 2);
  test::expect_error([&] { load_binary(path); },
                     {path, "format version 2 is not supported (this build reads version 1)"});
}

TEST_F(BinaryCacheBad, Truncated) {
  const std::string path = dir.path("tiny.halo");
  save_binary(tiny(), path);
  fs::resize_file(path, fs::file_size(path) - 3);
  test::expect_error([&] { load_binary(path); }, {path, "truncated: section 'test_mask' ends at byte"});
  fs::resize_file(path, 20);
  test::expect_error([&] { load_binary(path); }, {path, "truncated"});
}

TEST_F(BinaryCacheBad, FlippedByte) {
  const std::string path = dir.path("tiny.halo");
  save_binary(tiny(), path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(section_offset(path, "features") + 5));
    f.put('\x7f');
  }
  test::expect_error([&] { load_binary(path); }, {path, "checksum mismatch in section 'features'"});
}

TEST_F(BinaryCacheBad, LabelRowsDisagreeWithMeta) {
  good.labels = good.labels.narrow(0, 0, 4).contiguous();
  expect(good, {"meta num_nodes 5 but section 'labels' has 4 rows"});
}
TEST_F(BinaryCacheBad, OffsetRowsDisagreeWithMeta) {
  good.meta["num_nodes"] = 4;
  expect(good, {"meta num_nodes 4 but section 'offsets' has 6 rows (expected 5)"});
}
TEST_F(BinaryCacheBad, EdgeCountDisagreesWithMeta) {
  good.meta["num_edges"] = 9;
  expect(good, {"meta num_edges 9 but section 'indices' has 8 rows"});
}
TEST_F(BinaryCacheBad, FeatureColumnsDisagreeWithMeta) {
  good.meta["num_features"] = 4;
  expect(good, {"meta num_features 4 but section 'features' has 3 columns"});
}
TEST_F(BinaryCacheBad, MaskRowsDisagreeWithMeta) {
  good.masks[1] = at::zeros({6}, at::kBool);
  expect(good, {"meta num_nodes 5 but section 'val_mask' has 6 rows"});
}
TEST_F(BinaryCacheBad, MetaFieldMissing) {
  good.meta.erase("num_classes");
  expect(good, {"meta field 'num_classes' must be a non-negative integer, found nothing"});
}
TEST_F(BinaryCacheBad, MetaFieldNegative) {
  good.meta["num_nodes"] = -1;
  expect(good, {"meta field 'num_nodes' must be a non-negative integer, found -1"});
}
TEST_F(BinaryCacheBad, BrokenCsr) {
  std::swap(good.indices[1], good.indices[2]);  // row 1 was {0, 2}; now {2, 0}
  expect(good, {"graph CSR: row 1 is not sorted"});
}
TEST_F(BinaryCacheBad, WrongFeatureType) {
  good.features = good.features.to(at::kLong);
  expect(good, {"features must be a float32 matrix with 5 rows"});
}
TEST_F(BinaryCacheBad, LabelBeyondClasses) {
  good.meta["num_classes"] = 1;
  expect(good, {"labels must lie in [0, 1)"});
}
TEST_F(BinaryCacheBad, SplitNodeUnlabelled) {
  good.masks[2] = mask_from_ids({2}, 5);
  expect(good, {"node 2 is in the test split but has no label"});
}
// The value checks of the text loaders hold for the cache too (the text loaders refuse NaN).
TEST_F(BinaryCacheBad, NonFiniteFeature) {
  good.features = good.features.clone();
  good.features[1][2] = std::numeric_limits<float>::quiet_NaN();
  good.features[4][0] = -std::numeric_limits<float>::infinity();
  expect(good, {"features must be finite: 2 values are NaN or infinite (first: node 1, feature 2, value nan)"});
}
TEST_F(BinaryCacheBad, OverlappingSplits) {
  good.masks[2] = mask_from_ids({1, 4}, 5);
  expect(good, {"the train and test splits overlap in 1 nodes (first: node 1)"});
}
TEST_F(BinaryCacheBad, ClassCountBeyondLimit) {
  good.meta["num_classes"] = int64_t{1} << 40;
  expect(good, {"num_classes must lie in [0, 65536], got 1099511627776"});
}
TEST_F(BinaryCacheBad, MaskByteNotBoolean) {
  good.masks[0] = at::tensor(std::vector<uint8_t>{1, 2, 0, 0, 0});
  expect(good, {"section 'train_mask' holds bytes other than 0 and 1"});
}

}  // namespace
}  // namespace halo
