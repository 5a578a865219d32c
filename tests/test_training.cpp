// Trainer behaviour: determinism, checkpoint-resume identity, weight export.
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "datasets/presets.h"
#include "gcn/export_weights.h"
#include "test_support.h"
#include "training_support.h"

namespace halo {
namespace {

using test::tiny;

class TrainerDeterminism : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerDeterminism, SameSeedSameLossesBitForBit) {
  const ModelOptions model = ModelOptions().kind(GetParam()).hidden(8).heads(2).dropout(0.5);
  const TrainerOptions trainer = TrainerOptions().epochs(15).seed(3);
  const auto a = test::losses(test::train_model(tiny(), model, trainer).result);
  const auto b = test::losses(test::train_model(tiny(), model, trainer).result);
  EXPECT_EQ(a, b);
  const auto other = test::losses(test::train_model(tiny(), model, TrainerOptions(trainer).seed(4)).result);
  EXPECT_NE(a, other);
  EXPECT_LT(a.back(), a.front());  // it learns
}

INSTANTIATE_TEST_SUITE_P(Models, TrainerDeterminism, ::testing::Values("gcn", "sage", "gat"));

TEST(Trainer, OneProcessRunsTheLocalHaloSync) {
  const auto run = test::train_model(tiny(), ModelOptions().kind("gcn").hidden(8), TrainerOptions().epochs(2));
  for (const EpochMetrics& m : run.result.epochs) EXPECT_EQ(m.halo_sync, "local");
  EXPECT_EQ(run.result.epochs.front().to_json()["halo_sync"], "local");
}

TEST(Trainer, ResumedRunMatchesUninterruptedRunBitForBit) {
  test::TempDir dir;
  for (const std::string kind : {"gcn", "gat"}) {
    const ModelOptions model =
        ModelOptions().kind(kind).hidden(8).heads(2).in_features(tiny().num_features()).out_features(4);
    const TrainerOptions options = TrainerOptions().epochs(12).seed(9).progress(false);
    const auto full = test::losses(test::train_model(tiny(), model, options).result);

    torch::manual_seed(9);
    Model first(model);
    Trainer(tiny(), first, TrainerOptions(options).epochs(6).checkpoint_dir(dir.path(kind))).train();

    torch::manual_seed(1234);  // a different initialisation, overwritten by the checkpoint
    Model second(model);
    Trainer resumed(tiny(), second, options);
    resumed.load_checkpoint(dir.path(kind));
    EXPECT_EQ(resumed.epoch(), 6);
    const auto rest = test::losses(resumed.train());
    EXPECT_EQ(rest, std::vector<double>(full.begin() + 6, full.end())) << kind;
  }
}

TEST(Trainer, CheckpointErrorsNameTheProblem) {
  test::TempDir dir;
  const ModelOptions model = ModelOptions().in_features(tiny().num_features()).out_features(4);
  Model m(model);
  Trainer t(tiny(), m, TrainerOptions().epochs(2).progress(false).checkpoint_dir(dir.path("c")));
  t.train();
  test::expect_error([&] { t.load_checkpoint(dir.path("none")); }, {"state.json", "no complete checkpoint"});
  Trainer other_seed(tiny(), m, TrainerOptions().seed(5).progress(false));
  test::expect_error([&] { other_seed.load_checkpoint(dir.path("c")); }, {"written with seed 0", "uses seed 5"});
  Model wider(ModelOptions(model).hidden(32));
  Trainer mismatch(tiny(), wider, TrainerOptions().progress(false));
  test::expect_error([&] { mismatch.load_checkpoint(dir.path("c")); }, {"does not fit this model"});
  // Only the newest complete checkpoint folder is kept.
  int folders = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path("c"))) folders += e.is_directory();
  EXPECT_EQ(folders, 1);
}

// A full disk fails the checkpoint with an error naming the file, and leaves no state.json: the
// folder is never taken for a complete checkpoint. The disk is a 64 KiB tmpfs (needs root).
TEST(Trainer, FullDiskLeavesNoCompleteCheckpoint) {
  test::TempDir dir;
  const std::string disk = dir.path("disk");
  std::filesystem::create_directories(disk);
  if (std::system(("mount -t tmpfs -o size=64k tmpfs " + disk + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "mounting a small tmpfs needs root";
  }
  // Unmounted however the test ends, so that a failure leaves no mount behind.
  struct Unmount {
    std::string path;
    ~Unmount() { std::system(("umount " + path).c_str()); }
  } unmount{disk};
  Model m(ModelOptions().in_features(tiny().num_features()).out_features(4).hidden(512));
  Trainer t(tiny(), m, TrainerOptions().epochs(2).progress(false).checkpoint_dir(disk + "/c"));
  test::expect_error([&] { t.train(); }, {disk + "/c/epoch-000002/", "No space left on device"});
  EXPECT_FALSE(std::filesystem::exists(disk + "/c/state.json"));
}

TEST(Trainer, ExportsANameToTensorDictionary) {
  test::TempDir dir;
  const auto run = test::train_model(tiny(), ModelOptions().kind("sage"), TrainerOptions().epochs(2));
  export_weights(run.model, dir.path("weights.pt"));
  std::ifstream in(dir.path("weights.pt"), std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto dict = torch::pickle_load(bytes).toGenericDict();
  const auto params = run.model->named_parameters();
  EXPECT_EQ(dict.size(), params.size());
  for (const auto& p : params) {
    ASSERT_TRUE(dict.contains(p.key())) << p.key();
    EXPECT_TRUE(dict.at(p.key()).toTensor().equal(p.value())) << p.key();
  }
  EXPECT_TRUE(dict.contains("layers.0.weight_neighbors"));
}

TEST(Trainer, RefusesBadOptions) {
  const ModelOptions model = ModelOptions().in_features(tiny().num_features()).out_features(4);
  test::expect_error([&] { Trainer(tiny(), Model(model), TrainerOptions().lr(0)); }, {"lr (0) > 0"});
  test::expect_error([&] { Model(ModelOptions(model).kind("mlp")); }, {"unknown kind 'mlp'"});
  test::expect_error([&] { Model(ModelOptions(model).dropout(1.0)); }, {"dropout must be in [0, 1)"});
}

}  // namespace
}  // namespace halo
