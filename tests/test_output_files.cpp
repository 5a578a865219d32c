// Writing files (core/atomic_file.h, archive, metrics): a path that is not a regular file is
// refused and left as it was, a failed write leaves no temporary file, and a resumed metrics
// log continues only the log it belongs to.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/archive.h"
#include "core/atomic_file.h"
#include "core/metrics_log.h"
#include "datasets/presets.h"
#include "gcn/export_weights.h"
#include "test_support.h"
#include "train/trainer.h"

namespace halo {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Every writer meets a FIFO and (as root) a copy of /dev/null: each refuses it, names it, and
// leaves it a FIFO or device.
TEST(OutputFiles, SpecialFilesAreRefusedAndKept) {
  test::TempDir dir;
  std::vector<std::pair<std::string, std::string>> specials = {{dir.path("fifo"), "is a FIFO"}};
  ASSERT_EQ(::mkfifo(specials[0].first.c_str(), 0666), 0);
  if (::mknod(dir.path("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    specials.emplace_back(dir.path("null"), "is a character device");
  }
  Model model(ModelOptions().in_features(3).out_features(2));
  for (const auto& [path, kind] : specials) {
    test::expect_error([&] { write_file_atomically(path, "x"); }, {path, kind, "refusing to replace it"});
    test::expect_error([&] { MetricsLog log(path); }, {"metrics file " + path, kind});
    test::expect_error([&] { export_weights(model, path); }, {path, kind});
    ArchiveWriter archive(path, "HALOTEST", 1);
    test::expect_error([&] { archive.finish(); }, {path, kind});
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_FALSE(S_ISREG(st.st_mode)) << path << " was replaced by a regular file";
  }
  test::expect_error([&] { write_file_atomically(dir.path(), "x"); }, {dir.path(), "is a folder"});
  EXPECT_EQ(entries(dir.path()).size(), specials.size()) << "a temporary file was left behind";
}

TEST(OutputFiles, ReplacesARegularFileWholeAndReportsItsDigest) {
  test::TempDir dir;
  const std::string path = dir.write("f", "old content");
  ASSERT_EQ(::symlink(path.c_str(), dir.path("link").c_str()), 0);
  const FileDigest d = write_file_atomically(path, "new");
  EXPECT_EQ(d.bytes, 3u);
  EXPECT_EQ(d.crc32, crc32_of("new", 3));
  std::ifstream in(dir.path("link"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "new");
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"f", "link"}));
}

// A write that fails after its temporary file exists (a crash is not simulated: an exception
// between write and commit) removes it.
TEST(OutputFiles, AnAbandonedWriteLeavesNothing) {
  test::TempDir dir;
  {
    AtomicFile f(dir.path("out"));
    f.write("abc", 3);
  }
  EXPECT_TRUE(entries(dir.path()).empty());
  test::expect_error([&] { write_file_atomically(dir.path("missing/out"), "x"); }, {dir.path("missing/out")});
}

std::string lines_of(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(OutputFiles, MetricsLogContinuesOnlyItsOwnEpochs) {
  test::TempDir dir;
  const std::string path = dir.path("m.jsonl");
  {
    MetricsLog log(path);
    for (int e = 0; e < 3; ++e) log.write({{"epoch", e}});
  }
  EXPECT_EQ(last_logged_epoch(path), 2);
  {
    MetricsLog log = MetricsLog::continued(path, 2);
    log.write({{"epoch", 3}});
  }
  EXPECT_EQ(lines_of(path), "{\"epoch\":0}\n{\"epoch\":1}\n{\"epoch\":2}\n{\"epoch\":3}\n");
  test::expect_error([&] { MetricsLog::continued(path, 1); },
                     {"metrics file " + path, "last record is epoch 3", "after epoch 1"});
  // A new log starts afresh; a log cut mid-line is named.
  EXPECT_TRUE(MetricsLog::continued(dir.path("new.jsonl"), 7).enabled());
  dir.write("cut.jsonl", "{\"epoch\":0}\n{\"epo");
  test::expect_error([&] { MetricsLog::continued(dir.path("cut.jsonl"), 0); }, {"cut.jsonl:2"});
}

}  // namespace
}  // namespace halo
