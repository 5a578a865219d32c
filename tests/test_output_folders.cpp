// Writers that fill a folder (halo partition -o DIR, --format plain -o DIR; core/atomic_file.h
// OutputFolder): a folder holding anything else is refused and kept, an earlier output is
// replaced only with --overwrite and then loses only its own files, special files are never
// followed or replaced, and a failed write leaves nothing that loads.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "datasets/plain_loader.h"
#include "datasets/presets.h"
#include "partition/partition_dir.h"
#include "test_support.h"

namespace halo {
namespace {

namespace fs = std::filesystem;
using test::Outcome;

using test::halo;

std::string read(const std::string& path) {
  std::ostringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

bool is_fifo(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

void expect_has(const Outcome& r, const std::string& piece) {
  EXPECT_NE(r.out.find(piece), std::string::npos) << "missing: " << piece << "\noutput: " << r.out;
}

// A tmpfs of `size` at <dir>/disk, so that a write runs out of space part-way (needs root).
struct SmallDisk {
  std::string path;
  bool mounted = false;
  SmallDisk(const test::TempDir& dir, const char* size) : path(dir.path("disk")) {
    fs::create_directories(path);
    mounted = std::system(fmt::format("mount -t tmpfs -o size={} tmpfs {} 2>/dev/null", size, path).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted) std::system(("umount " + path).c_str());
  }
};

TEST(OutputFolders, PartitionKeepsAFolderOfUserFiles) {
  test::TempDir dir;
  const std::string out = dir.path("out");
  dir.write("out/notes.txt", "mine");
  dir.write("out/part-2/mine.txt", "also mine");
  for (const char* flags : {"", " --overwrite"}) {
    const Outcome r = halo("partition tiny -k 2 -o " + out + flags, true);
    EXPECT_EQ(r.code, 2) << r.out;
    expect_has(r, "-o " + out +
                      " holds 2 entries that are not a Halo partition (notes.txt, part-2): give an empty "
                      "or new folder");
  }
  EXPECT_EQ(read(out + "/notes.txt"), "mine");
  EXPECT_EQ(read(out + "/part-2/mine.txt"), "also mine");
  EXPECT_FALSE(fs::exists(out + "/meta.json"));
  EXPECT_FALSE(fs::exists(out + "/part-0"));
}

TEST(OutputFolders, PartitionIsReplacedOnlyWithOverwriteAndLosesOnlyItsFiles) {
  test::TempDir dir;
  const std::string out = dir.path("p");
  ASSERT_EQ(halo("partition tiny -k 4 -o " + out, true).code, 0);
  dir.write("p/notes.txt", "mine");
  dir.write("p/part-3/mine.txt", "also mine");
  const std::string before = read(out + "/meta.json");
  const Outcome refused = halo("partition tiny -k 2 -o " + out, true);
  EXPECT_EQ(refused.code, 2) << refused.out;
  expect_has(refused, "-o " + out + " holds a Halo partition (meta.json, notes.txt, part-0, ...): add --overwrite");
  EXPECT_EQ(read(out + "/meta.json"), before);

  const Outcome replaced = halo("partition tiny -k 2 -o " + out + " --overwrite", true);
  ASSERT_EQ(replaced.code, 0) << replaced.out;
  const PartitionMeta meta = read_partition_meta(out);
  EXPECT_EQ(meta.num_parts, 2);
  for (int32_t part = 0; part < 2; ++part) EXPECT_EQ(load_shard(meta, part).num_parts, 2);
  EXPECT_FALSE(fs::exists(out + "/part-2"));
  EXPECT_FALSE(fs::exists(out + "/part-3/shard.bin"));
  EXPECT_EQ(read(out + "/part-3/mine.txt"), "also mine");
  EXPECT_EQ(read(out + "/notes.txt"), "mine");
}

TEST(OutputFolders, PartitionNeverFollowsOrReplacesSpecialFiles) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.path("fifo").c_str(), 0666), 0);
  const Outcome fifo = halo("partition tiny -k 2 -o " + dir.path("fifo"), true);
  EXPECT_EQ(fifo.code, 2) << fifo.out;
  expect_has(fifo, dir.path("fifo") + " is a FIFO, not a folder");
  EXPECT_TRUE(is_fifo(dir.path("fifo")));

  // In a partition --overwrite may replace: part-1/shard.bin a FIFO, part-0 a link elsewhere.
  const std::string out = dir.path("p");
  ASSERT_EQ(halo("partition tiny -k 2 -o " + out, true).code, 0);
  const std::string meta = read(out + "/meta.json");
  fs::remove(out + "/part-1/shard.bin");
  ASSERT_EQ(::mkfifo((out + "/part-1/shard.bin").c_str(), 0666), 0);
  const Outcome special = halo("partition tiny -k 2 -o " + out + " --overwrite", true);
  EXPECT_EQ(special.code, 1) << special.out;
  expect_has(special, out + "/part-1/shard.bin is a FIFO: refusing to replace it");
  EXPECT_TRUE(is_fifo(out + "/part-1/shard.bin"));
  EXPECT_EQ(read(out + "/meta.json"), meta) << "refused, yet the old partition was changed";

  fs::remove(out + "/part-1/shard.bin");
  fs::rename(out + "/part-0", dir.path("elsewhere"));
  fs::create_directory_symlink(dir.path("elsewhere"), out + "/part-0");
  const std::string shard = read(dir.path("elsewhere/shard.bin"));
  const Outcome link = halo("partition tiny -k 2 -o " + out + " --overwrite", true);
  EXPECT_EQ(link.code, 1) << link.out;
  expect_has(link, out + "/part-0 is not a folder of its own (a symbolic link)");
  EXPECT_EQ(read(dir.path("elsewhere/shard.bin")), shard);
}

// Out of space part-way: a new folder is removed again, and a replaced one has no meta.json.
TEST(OutputFolders, AFailedPartitionLeavesNothingThatLoads) {
  test::TempDir dir;
  SmallDisk disk(dir, "1m");
  if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs needs root";
  const Dataset cora = load_plain(test::dataset_dir("cora"));
  const std::string out = disk.path + "/p";
  EXPECT_THROW(write_partition(cora, PartitionOptions().num_parts(2), out, "cora"), Error);
  EXPECT_FALSE(fs::exists(out)) << "a failed write left its files";

  write_partition(generate_preset("tiny"), PartitionOptions().num_parts(2), out, "tiny");
  EXPECT_THROW(write_partition(cora, PartitionOptions().num_parts(2), out, "cora", true), Error);
  EXPECT_THROW(read_partition_meta(out), Error);
}

TEST(OutputFolders, PlainKeepsAFolderOfUserFiles) {
  test::TempDir dir;
  const std::string out = dir.path("out");
  dir.write("out/labels.txt", "mine");
  for (const char* cmd : {"convert tiny", "generate tiny"}) {
    const Outcome r = halo(std::string(cmd) + " --format plain -o " + out, true);
    EXPECT_EQ(r.code, 2) << r.out;
    expect_has(r, "-o " + out +
                      " holds 1 entry that is not a plain dataset (meta.txt) (labels.txt): give an "
                      "empty or new folder");
  }
  EXPECT_EQ(read(out + "/labels.txt"), "mine");
  EXPECT_FALSE(fs::exists(out + "/meta.txt"));
}

TEST(OutputFolders, PlainIsReplacedOnlyWithOverwriteAndKeepsOtherFiles) {
  test::TempDir dir;
  const std::string out = dir.path("plain");
  ASSERT_EQ(halo("generate tiny --format plain -o " + out, true).code, 0);
  dir.write("plain/README.md", "mine");
  const std::string labels = read(out + "/labels.txt");
  const Outcome refused = halo("generate tiny:nodes=50 --format plain -o " + out, true);
  EXPECT_EQ(refused.code, 2) << refused.out;
  expect_has(refused, "-o " + out +
                          " holds a plain dataset (meta.txt) (README.md, edges.txt, features.txt, ...): "
                          "add --overwrite");
  EXPECT_EQ(read(out + "/labels.txt"), labels);

  ASSERT_EQ(halo("generate tiny:nodes=50 --format plain --overwrite -o " + out, true).code, 0);
  EXPECT_EQ(load_plain(out).num_nodes(), 50);
  EXPECT_EQ(read(out + "/README.md"), "mine");

  fs::remove(out + "/edges.txt");
  ASSERT_EQ(::mkfifo((out + "/edges.txt").c_str(), 0666), 0);
  const Outcome special = halo("convert tiny --format plain --overwrite -o " + out, true);
  EXPECT_EQ(special.code, 1) << special.out;
  expect_has(special, out + "/edges.txt is a FIFO: refusing to replace it");
  EXPECT_TRUE(is_fifo(out + "/edges.txt"));
  EXPECT_TRUE(fs::exists(out + "/meta.txt")) << "refused, yet the old dataset was changed";
}

TEST(OutputFolders, AFailedPlainWriteLeavesNothing) {
  test::TempDir dir;
  SmallDisk disk(dir, "256k");
  if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs needs root";
  const std::string out = disk.path + "/cora";
  EXPECT_THROW(save_plain(load_plain(test::dataset_dir("cora")), out), Error);
  EXPECT_FALSE(fs::exists(out)) << "a failed write left its files";
}

}  // namespace
}  // namespace halo
