// Checkpoint folders (gcn/checkpoint.h): a run never deletes what it did not write, two runs
// never share a folder, and a resumed run loads only files that match their manifest.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/presets.h"
#include "gcn/checkpoint.h"
#include "gcn/checkpoint_model.h"
#include "test_support.h"
#include "train/trainer.h"
#include "training_support.h"

namespace halo {
namespace {

using test::tiny;

namespace fs = std::filesystem;

const ModelOptions kModel =
    ModelOptions().kind("gat").heads(2).in_features(tiny().num_features()).out_features(4).hidden(8);

TrainerOptions options(const std::string& dir, int64_t epochs) {
  return TrainerOptions().epochs(epochs).progress(false).checkpoint_dir(dir);
}

void train(const TrainerOptions& o) {
  Model m(kModel);
  Trainer(tiny(), m, o).train();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

void write_json(const std::string& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(2); }

// The example: a fresh run in a folder holding a checkpoint (and a folder of the user's
// named like a checkpoint) is refused; --overwrite replaces the checkpoint and nothing else.
TEST(Checkpoint, AFreshRunRefusesAnOccupiedFolder) {
  test::TempDir dir;
  const std::string ck = dir.path("ck");
  train(options(ck, 6));
  dir.write("ck/epoch-000099/notes.txt", "mine");
  dir.write("ck/epoch-000006/notes.txt", "mine too");
  Model m(kModel);
  test::expect_error([&] { Trainer(tiny(), m, options(ck, 2)); },
                     {"checkpoint folder " + ck + " holds a checkpoint", "--resume", "--overwrite"});
  EXPECT_EQ(read_checkpoint_state(ck).epoch, 6);
  dir.write("other/notes.txt", "x");
  test::expect_error([&] { Trainer(tiny(), m, options(dir.path("other"), 2)); },
                     {"is not empty (1 entries: notes.txt)"});

  train(options(ck, 2).overwrite(true));
  EXPECT_EQ(read_checkpoint_state(ck).epoch, 2);
  // The old checkpoint's own files are gone; the user's files and their folders stay.
  EXPECT_FALSE(fs::exists(ck + "/epoch-000006/model.pt"));
  EXPECT_TRUE(fs::exists(ck + "/epoch-000006/notes.txt"));
  EXPECT_TRUE(fs::exists(ck + "/epoch-000099/notes.txt"));
}

// A run keeps only its newest checkpoint, deleting the files of the one before it only.
TEST(Checkpoint, ARunReplacesOnlyItsOwnCheckpoints) {
  test::TempDir dir;
  const std::string ck = dir.path("ck");
  train(options(ck, 4).checkpoint_every(2));
  EXPECT_FALSE(fs::exists(ck + "/epoch-000002"));
  EXPECT_TRUE(fs::exists(ck + "/epoch-000004/model.pt"));
}

TEST(Checkpoint, ASecondRunIsLockedOut) {
  test::TempDir dir;
  const std::string ck = dir.path("ck");
  Model m(kModel), n(kModel);
  Trainer first(tiny(), m, options(ck, 2));
  test::expect_error([&] { Trainer(tiny(), n, options(ck, 2).resume(true)); },
                     {"checkpoint folder " + ck + " is in use by another run", "pid " + std::to_string(::getpid())});
}

// One flipped bit, a truncated file, a missing file, a negative epoch and an epoch that disagrees
// with its folder: each is an error naming the file and what is wrong, before anything loads.
TEST(Checkpoint, CorruptFilesAndManifestsAreRefused) {
  test::TempDir dir;
  const std::string ck = dir.path("ck"), folder = ck + "/epoch-000004";
  train(options(ck, 4));
  const auto resume = [&] {
    Model m(kModel);
    Trainer(tiny(), m, options(ck, 6).resume(true));
  };
  const auto copy = [&](const std::string& from, const std::string& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  };
  copy(folder + "/model.pt", dir.path("model.pt"));
  {
    std::fstream f(folder + "/model.pt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(folder + "/model.pt") / 2));
    const char c = static_cast<char>(f.peek() ^ 1);
    f.seekp(f.tellg());
    f.put(c);
  }
  test::expect_error(resume, {folder + "/model.pt", "checksum mismatch", "corrupt"});
  test::expect_error([&] { load_checkpoint_model(ck); }, {folder + "/model.pt", "checksum mismatch"});
  copy(dir.path("model.pt"), folder + "/model.pt");

  copy(folder + "/optimizer.pt", dir.path("optimizer.pt"));
  fs::resize_file(folder + "/optimizer.pt", 100);
  test::expect_error(resume, {folder + "/optimizer.pt", "100 bytes", "truncated"});
  fs::remove(folder + "/optimizer.pt");
  test::expect_error(resume, {folder + "/optimizer.pt", "missing"});
  copy(dir.path("optimizer.pt"), folder + "/optimizer.pt");

  const nlohmann::json good = read_json(ck + "/state.json");
  nlohmann::json bad = good;
  bad["epoch"] = -5;
  write_json(ck + "/state.json", bad);
  test::expect_error(resume, {ck + "/state.json", "\"epoch\" is -5"});
  bad["epoch"] = 2;
  write_json(ck + "/state.json", bad);
  test::expect_error(resume, {"\"folder\" is 'epoch-000004' but \"epoch\" is 2"});
  bad = good;
  bad["files"].erase("model.pt");
  write_json(ck + "/state.json", bad);
  test::expect_error(resume, {"does not list model.pt"});
  bad = good;
  bad["files"]["../../etc/passwd"] = {{"bytes", 1}, {"crc32", 0}};
  write_json(ck + "/state.json", bad);
  test::expect_error(resume, {"'../../etc/passwd', not a file name"});
  write_json(ck + "/state.json", good);
  resume();  // intact again
}

// A resumed run appends its epochs to the metrics log of the run it continues.
TEST(Checkpoint, ResumingContinuesTheMetricsLog) {
  test::TempDir dir;
  const std::string ck = dir.path("ck"), log = dir.path("m.jsonl");
  train(options(ck, 4).metrics_path(log));
  train(options(ck, 6).metrics_path(log).resume(true));
  std::ifstream in(log);
  std::vector<int64_t> epochs;
  for (std::string line; std::getline(in, line);) epochs.push_back(nlohmann::json::parse(line).at("epoch"));
  EXPECT_EQ(epochs, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // Resuming from the epoch-6 checkpoint with a log that stops at epoch 3 would leave a gap.
  std::ofstream(dir.path("short.jsonl")) << "{\"epoch\":3}\n";
  Model m(kModel);
  test::expect_error([&] { Trainer(tiny(), m, options(ck, 8).metrics_path(dir.path("short.jsonl")).resume(true)); },
                     {"short.jsonl", "last record is epoch 3", "after epoch 5"});
}

// A checkpoint folder that cannot take new files fails the resumed run at set-up, not after its
// epochs. The folder is a tmpfs remounted read-only (needs root).
TEST(Checkpoint, AReadOnlyFolderFailsAtSetUp) {
  test::TempDir dir;
  const std::string disk = dir.path("disk");
  fs::create_directories(disk);
  if (std::system(("mount -t tmpfs -o size=1m tmpfs " + disk + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "mounting a tmpfs needs root";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { std::system(("umount " + path).c_str()); }
  } unmount{disk};
  train(options(disk + "/ck", 2));
  ASSERT_EQ(std::system(("mount -o remount,ro " + disk).c_str()), 0);
  Model m(kModel);
  test::expect_error([&] { Trainer(tiny(), m, options(disk + "/ck", 4).resume(true)); },
                     {"checkpoint folder " + disk + "/ck", "Read-only file system"});
}

}  // namespace
}  // namespace halo
