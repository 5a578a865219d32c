#include <ATen/Functions.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <fstream>
#include <map>
#include <set>

#include "datasets/plain_loader.h"
#include "datasets/presets.h"
#include "partition/partition_dir.h"
#include "test_support.h"

namespace halo {
namespace {

const Dataset& cached(const std::string& name) {
  static std::map<std::string, Dataset> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    it = cache.emplace(name, is_preset(name) ? generate_preset(name) : load_plain(test::dataset_dir(name))).first;
  }
  return it->second;
}

// Checks every invariant of a written partition against its source dataset, and that the
// shards reassemble into exactly the original graph, features, labels and masks.
void check_partition(const Dataset& d, const std::string& dir, int32_t k) {
  const PartitionMeta meta = read_partition_meta(dir);
  ASSERT_EQ(meta.num_parts, k);
  ASSERT_EQ(meta.num_nodes, d.num_nodes());
  std::vector<Shard> shards;
  for (int32_t p = 0; p < k; ++p) shards.push_back(load_shard(meta, p));

  // Every node in exactly one part; new ids are contiguous per part.
  std::vector<int32_t> new_of_original(d.num_nodes(), -1);
  for (const Shard& s : shards) {
    for (int64_t i = 0; i < s.num_inner(); ++i) {
      const int32_t o = s.inner_original_ids[i];
      ASSERT_EQ(new_of_original[o], -1) << "node " << o << " is in two parts";
      new_of_original[o] = static_cast<int32_t>(s.global_begin + i);
    }
  }
  for (int64_t o = 0; o < d.num_nodes(); ++o) ASSERT_GE(new_of_original[o], 0) << "node " << o << " is in no part";

  const std::vector<int32_t> in_deg = d.graph.in_degrees(), out_deg = d.graph.out_degrees();
  EdgeList edges;
  edges.num_nodes = d.num_nodes();
  at::Tensor features = at::zeros_like(d.features), labels = at::full_like(d.labels, -7);
  at::Tensor train = at::zeros_like(d.train_mask), val = at::zeros_like(d.val_mask), test = at::zeros_like(d.test_mask);
  for (const Shard& s : shards) {
    const int64_t ni = s.num_inner(), begin = s.global_begin;
    // Halo = exactly the in-neighbours this part does not own, ordered by owner then id.
    std::set<int32_t> expected_halo;
    for (int32_t o : s.inner_original_ids) {
      for (int32_t u : d.graph.in_neighbors(o)) {
        if (new_of_original[u] < begin || new_of_original[u] >= begin + ni) expected_halo.insert(new_of_original[u]);
      }
    }
    ASSERT_EQ(std::vector<int32_t>(expected_halo.begin(), expected_halo.end()), s.halo_global) << "part " << s.part;
    std::vector<int32_t> original_of_local = s.inner_original_ids;
    for (int64_t h = 0; h < s.num_halo(); ++h) {
      const Shard& owner = shards[s.halo_owner[h]];
      ASSERT_EQ(owner.global_begin + s.halo_owner_row[h], s.halo_global[h]);
      original_of_local.push_back(owner.inner_original_ids[s.halo_owner_row[h]]);
    }
    for (size_t l = 0; l < original_of_local.size(); ++l) {
      ASSERT_EQ(s.in_degree[l], in_deg[original_of_local[l]]);
      ASSERT_EQ(s.out_degree[l], out_deg[original_of_local[l]]);
    }
    for (int64_t i = 0; i < ni; ++i) {
      for (int64_t e = s.offsets[i]; e < s.offsets[i + 1]; ++e) {
        edges.src.push_back(original_of_local[s.indices[e]]);
        edges.dst.push_back(s.inner_original_ids[i]);
      }
    }
    // What part j expects from this part is exactly what this part sends to j, in order.
    for (int32_t j = 0; j < k; ++j) {
      const Shard& peer = shards[j];
      std::vector<int32_t> sent, expected;
      for (int64_t p = s.send_offsets[j]; p < s.send_offsets[j + 1]; ++p)
        sent.push_back(static_cast<int32_t>(begin + s.send_rows[p]));
      for (int64_t p = peer.recv_offsets[s.part]; p < peer.recv_offsets[s.part + 1]; ++p) {
        const int64_t h = peer.recv_rows[p] - peer.num_inner();
        ASSERT_EQ(peer.halo_owner[h], s.part);
        expected.push_back(peer.halo_global[h]);
      }
      ASSERT_EQ(sent, expected) << "part " << s.part << " -> part " << j;
    }
    const at::Tensor index = at::tensor(std::vector<int64_t>(s.inner_original_ids.begin(), s.inner_original_ids.end()));
    features.index_copy_(0, index, s.features);
    labels.index_copy_(0, index, s.labels);
    train.index_copy_(0, index, s.train_mask);
    val.index_copy_(0, index, s.val_mask);
    test.index_copy_(0, index, s.test_mask);
  }
  EXPECT_EQ(Graph::from_edges(edges), d.graph);
  EXPECT_TRUE(features.equal(d.features));
  EXPECT_TRUE(labels.equal(d.labels));
  EXPECT_TRUE(train.equal(d.train_mask));
  EXPECT_TRUE(val.equal(d.val_mask));
  EXPECT_TRUE(test.equal(d.test_mask));

  int64_t volume = 0;
  for (const Shard& s : shards) volume += s.num_halo();
  EXPECT_EQ(meta.stats.comm_volume, volume);
}

struct Case {
  std::string dataset;
  PartitionMethod method;
  PartitionObjective objective;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.dataset << "/" << to_string(c.method) << "/" << to_string(c.objective);
}

class PartitionInvariants : public ::testing::TestWithParam<std::tuple<Case, int32_t>> {};

TEST_P(PartitionInvariants, HoldAndReassemble) {
  const auto& [c, k] = GetParam();
  const Dataset& d = cached(c.dataset);
  test::TempDir dir;
  const PartitionStats stats = write_partition(
      d, PartitionOptions().num_parts(k).method(c.method).objective(c.objective).seed(1), dir.path("parts"), c.dataset);
  EXPECT_EQ(stats.parts.size(), static_cast<size_t>(k));
  EXPECT_GT(stats.edge_cut, 0);
  check_partition(d, dir.path("parts"), k);
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<Case, int32_t>>& info) {
  const Case& c = std::get<0>(info.param);
  std::string name = c.dataset + "_" + to_string(c.method) +
                     (c.method == PartitionMethod::metis ? "_" + to_string(c.objective) : "") + "_k" +
                     std::to_string(std::get<1>(info.param));
  for (char& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    Datasets, PartitionInvariants,
    ::testing::Combine(::testing::Values(Case{"cora", PartitionMethod::metis, PartitionObjective::volume},
                                         Case{"cora", PartitionMethod::metis, PartitionObjective::cut},
                                         Case{"cora", PartitionMethod::random, PartitionObjective::volume},
                                         Case{"pubmed", PartitionMethod::metis, PartitionObjective::volume},
                                         Case{"tiny", PartitionMethod::metis, PartitionObjective::volume},
                                         Case{"tiny", PartitionMethod::random, PartitionObjective::volume}),
                       ::testing::Values(2, 3, 4, 8)),
    case_name);

TEST(Partition, MetisCutsFarLessThanRandom) {
  const Dataset& d = cached("cora");
  test::TempDir dir;
  const auto metis = write_partition(d, PartitionOptions().num_parts(4), dir.path("m"), "cora");
  const auto random =
      write_partition(d, PartitionOptions().num_parts(4).method(PartitionMethod::random), dir.path("r"), "cora");
  EXPECT_LT(metis.comm_volume * 3, random.comm_volume);
  EXPECT_LE(metis.node_imbalance, 1.031);
  EXPECT_LE(random.node_imbalance, 1.002);
}

TEST(Partition, MultiConstraintBalance) {
  const Dataset& d = cached("cora");
  test::TempDir dir;
  const auto stats = write_partition(d, PartitionOptions().num_parts(4).balance_edges(true).balance_train(true),
                                     dir.path("p"), "cora");
  EXPECT_LE(stats.node_imbalance, 1.05);
  EXPECT_LE(stats.edge_imbalance, 1.10);
  int64_t most = 0;
  for (const PartStats& p : stats.parts) most = std::max(most, p.train);
  EXPECT_LE(most, 140 / 4 * 1.2);
  check_partition(d, dir.path("p"), 4);
  EXPECT_EQ(read_partition_meta(dir.path("p")).json["options"]["balance"], nlohmann::json({"nodes", "edges", "train"}));
}

TEST(Partition, SinglePartHasNoHalo) {
  const Dataset& d = cached("tiny");
  test::TempDir dir;
  const auto stats = write_partition(d, PartitionOptions().num_parts(1), dir.path("p"), "tiny");
  EXPECT_EQ(stats.comm_volume, 0);
  EXPECT_EQ(stats.edge_cut, 0);
  check_partition(d, dir.path("p"), 1);
}

TEST(Partition, RewritingWithFewerPartsRemovesOldParts) {
  const Dataset& d = cached("tiny");
  test::TempDir dir;
  write_partition(d, PartitionOptions().num_parts(4), dir.path("p"), "tiny");
  write_partition(d, PartitionOptions().num_parts(2), dir.path("p"), "tiny", /*overwrite=*/true);
  EXPECT_FALSE(std::filesystem::exists(dir.path("p/part-2")));
  check_partition(d, dir.path("p"), 2);
}

TEST(Partition, RefusesBadOptions) {
  const Dataset& d = cached("tiny");
  test::TempDir dir;
  test::expect_error([&] { write_partition(d, PartitionOptions().num_parts(0), dir.path("p"), "tiny"); },
                     {"--parts must lie in [1, "});
  test::expect_error([&] { write_partition(d, PartitionOptions().imbalance(0.5), dir.path("p"), "tiny"); },
                     {"--imbalance must be >= 1"});
}

// More parts than METIS can fill: refused before anything is written, with the numbers.
TEST(Partition, RefusesEmptyParts) {
  test::TempDir dir;
  test::expect_error(
      [&] { write_partition(cached("tiny"), PartitionOptions().num_parts(300), dir.path("p"), "tiny"); },
      {"--parts 300: metis left ", " parts empty (tiny of 400 nodes: the largest part holds ", "against --imbalance 1.03",
       "use fewer parts"});
  EXPECT_FALSE(std::filesystem::exists(dir.path("p")));
}

// A path source is recorded absolute; the source is checked against meta.json's counts and hash.
TEST(PartitionSource, LoadsAndChecksTheRecordedSource) {
  test::TempDir dir;
  const Dataset& d = cached("tiny");
  save_plain(d, dir.path("data"));
  write_partition(load_plain(dir.path("data")), PartitionOptions().num_parts(2), dir.path("p"), dir.path("data"));
  const PartitionMeta meta = read_partition_meta(dir.path("p"));
  EXPECT_TRUE(std::filesystem::path(meta.source).is_absolute());
  EXPECT_EQ(load_partition_source(meta).num_nodes(), d.num_nodes());

  // Same counts, one feature value changed: only the hash tells.
  std::ofstream(dir.path("data/features.txt"), std::ios::app) << "5 7 0.5\n";
  test::expect_error([&] { load_partition_source(meta); },
                     {dir.path("p/meta.json"), "dataset.hash is " + meta.dataset_hash, "now has", "partition it again"});
  dir.write("data/edges.txt", "");
  test::expect_error([&] { load_partition_source(meta); },
                     {dir.path("p/meta.json"), fmt::format("dataset.num_edges is {} but dataset.source '{}' now has 0",
                                                           d.graph.num_edges(), meta.source)});
  std::filesystem::remove_all(dir.path("data"));
  test::expect_error([&] { load_partition_source(meta); },
                     {dir.path("p/meta.json"), "dataset.source '" + meta.source + "' does not load"});
}

class BadPartitionDir : public ::testing::Test {
 protected:
  void SetUp() override { write_partition(cached("tiny"), PartitionOptions().num_parts(3), dir.path("p"), "tiny"); }
  std::string file(const std::string& rel) const { return dir.path("p/" + rel); }
  test::TempDir dir;
};

TEST_F(BadPartitionDir, MissingMeta) {
  std::filesystem::remove(file("meta.json"));
  test::expect_error([&] { read_partition_meta(dir.path("p")); }, {"meta.json", "cannot open"});
}

TEST_F(BadPartitionDir, CorruptMeta) {
  std::ofstream(file("meta.json")) << "{ \"format\": ";
  test::expect_error([&] { read_partition_meta(dir.path("p")); }, {"meta.json", "invalid JSON"});
}

TEST_F(BadPartitionDir, MissingField) {
  auto meta = read_partition_meta(dir.path("p")).json;
  meta["options"].erase("num_parts");
  std::ofstream(file("meta.json")) << meta.dump();
  test::expect_error([&] { read_partition_meta(dir.path("p")); }, {"meta.json", "'/options/num_parts'"});
}

TEST_F(BadPartitionDir, PartOutOfRange) {
  const auto meta = read_partition_meta(dir.path("p"));
  test::expect_error([&] { load_shard(meta, 3); }, {"holds 3 parts; part 3 was asked for"});
}

TEST_F(BadPartitionDir, MixedShards) {
  std::filesystem::copy_file(file("part-0/shard.bin"), file("part-1/shard.bin"),
                             std::filesystem::copy_options::overwrite_existing);
  const auto meta = read_partition_meta(dir.path("p"));
  test::expect_error([&] { load_shard(meta, 1); }, {"part-1/shard.bin", "does not match meta.json"});
}

// Same part sizes (the random partitioner deals exactly balanced parts), another assignment: only
// the partition id tells the shards apart.
TEST_F(BadPartitionDir, ShardOfAnotherPartitioning) {
  auto random = PartitionOptions().num_parts(3).method(PartitionMethod::random);
  write_partition(cached("tiny"), random.seed(1), dir.path("a"), "tiny");
  write_partition(cached("tiny"), random.seed(2), dir.path("b"), "tiny");
  std::filesystem::copy_file(dir.path("b/part-1/shard.bin"), dir.path("a/part-1/shard.bin"),
                             std::filesystem::copy_options::overwrite_existing);
  const auto meta = read_partition_meta(dir.path("a"));
  EXPECT_NO_THROW(load_shard(meta, 0));
  test::expect_error([&] { load_shard(meta, 1); },
                     {"a/part-1/shard.bin: partition id ", "a/meta.json has partition_id " + meta.partition_id,
                      "mixes shards of two partitionings"});
}

// The id follows the inputs: the same assignment of a dataset with other features is another
// partition, and repeating a partition repeats its id.
TEST(Partition, IdHashesTheDatasetAndTheAssignment) {
  test::TempDir dir;
  Dataset d = cached("tiny");
  const auto options = PartitionOptions().num_parts(2);
  write_partition(d, options, dir.path("a"), "tiny");
  write_partition(d, options, dir.path("b"), "tiny");
  d.features = d.features.clone();
  d.features[3][1] = 0.25f;
  write_partition(d, options, dir.path("c"), "tiny");
  const auto a = read_partition_meta(dir.path("a")), b = read_partition_meta(dir.path("b")),
             c = read_partition_meta(dir.path("c"));
  EXPECT_EQ(a.partition_id, b.partition_id);
  EXPECT_EQ(a.dataset_hash, b.dataset_hash);
  EXPECT_EQ(a.part_starts, c.part_starts);
  EXPECT_NE(a.dataset_hash, c.dataset_hash);
  EXPECT_NE(a.partition_id, c.partition_id);
  EXPECT_EQ(load_shard(a, 1).partition_id, a.partition_id);
}

// A shard is checked as every loader checks a dataset: here NaN features and overlapping splits.
TEST_F(BadPartitionDir, ShardValuesAreChecked) {
  const auto meta = read_partition_meta(dir.path("p"));
  Shard s = load_shard(meta, 1);
  s.features = s.features.clone();
  s.features[2][3] = std::numeric_limits<float>::infinity();
  save_shard(s, file("part-1/shard.bin"));
  test::expect_error([&] { load_shard(meta, 1); },
                     {"part-1/shard.bin", "features must be finite", "1 values", "node 2, feature 3, value inf"});
  s = load_shard(meta, 2);
  const int64_t v = s.train_mask.nonzero()[0][0].item<int64_t>();
  s.test_mask[v] = true;
  save_shard(s, file("part-2/shard.bin"));
  test::expect_error([&] { load_shard(meta, 2); },
                     {"part-2/shard.bin", "the train and test splits overlap in 1 nodes", fmt::format("node {}", v)});
}

TEST_F(BadPartitionDir, ShardClassCountDisagreesWithMeta) {
  auto meta = read_partition_meta(dir.path("p"));
  meta.num_classes += 1;
  test::expect_error([&] { load_shard(meta, 0); }, {"part-0/shard.bin", "4 classes", "5 classes"});
}

TEST_F(BadPartitionDir, TruncatedShard) {
  std::filesystem::resize_file(file("part-2/shard.bin"), std::filesystem::file_size(file("part-2/shard.bin")) / 2);
  const auto meta = read_partition_meta(dir.path("p"));
  test::expect_error([&] { load_shard(meta, 2); }, {"part-2/shard.bin", "truncated"});
}

TEST_F(BadPartitionDir, MissingShard) {
  std::filesystem::remove(file("part-1/shard.bin"));
  const auto meta = read_partition_meta(dir.path("p"));
  test::expect_error([&] { load_shard(meta, 1); }, {"cannot open", "part-1/shard.bin"});
}

}  // namespace
}  // namespace halo
