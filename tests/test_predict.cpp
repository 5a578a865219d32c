// `halo predict`: the files it writes (NumPy's format, node order, probabilities that give the
// evaluation's accuracy), K ranks writing what one process writes, and its refusals.
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/npy.h"
#include "test_support.h"
#include "training_support.h"

namespace halo {
namespace {

using test::halo;
using test::Outcome;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

at::Tensor npy(const std::string& path) { return npy_tensor(read(path), path); }

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  for (const at::Tensor& t : {at::randn({5, 3}), at::randn({4}, at::kDouble), at::arange(6, at::kLong).view({2, 3}),
                              at::arange(7, at::kInt), at::empty({0, 4})}) {
    const std::string bytes = npy_bytes(t);
    EXPECT_EQ(bytes.compare(0, 6, "\x93NUMPY"), 0);
    EXPECT_EQ((bytes.find('\n') + 1) % 64, 0u) << "the header ends on a 64-byte boundary";
    const at::Tensor back = npy_tensor(bytes, "t.npy");
    EXPECT_EQ(back.sizes(), t.sizes());
    EXPECT_TRUE(at::equal(back, t));
  }
  EXPECT_NE(npy_bytes(at::zeros({3})).find("'shape': (3,)"), std::string::npos);
  EXPECT_THROW(npy_bytes(at::zeros({2}, at::kHalf)), Error);
  const std::string good = npy_bytes(at::zeros({2, 2}));
  test::expect_error([&] { npy_tensor(good.substr(0, good.size() - 1), "x.npy"); }, {"x.npy", "15 bytes of data"});
  test::expect_error([&] { npy_tensor("PK\x03\x04", "x.npy"); }, {"x.npy", "no .npy magic"});
  std::string huge = good;
  huge.replace(huge.find("(2, 2)"), 6, "(9999999999, 9999999999)");
  test::expect_error([&] { npy_tensor(huge, "x.npy"); }, {"x.npy", "the shape asks for more"});
}

// One process and 2 ranks on the same checkpoint: the same classes, probabilities within
// DESIGN rule 2's 1e-5, whose classes give the accuracy training evaluated last.
TEST(PredictCli, FilesInNodeOrderAndRanksAgree) {
  test::TempDir dir;
  ASSERT_EQ(halo("train tiny --epochs 20 --checkpoint " + dir.path("ckpt") + " --metrics " + dir.path("m.jsonl")).code,
            0);
  const Outcome one = halo("predict tiny --model " + dir.path("ckpt") + " -o " + dir.path("one") + " --json");
  ASSERT_EQ(one.code, 0) << one.out;
  const auto manifest = nlohmann::json::parse(one.out);
  EXPECT_EQ(manifest, nlohmann::json::parse(read(dir.path("one/predictions.json"))));

  const Dataset& d = test::tiny();
  const at::Tensor classes = npy(dir.path("one/classes.npy")), probabilities = npy(dir.path("one/probabilities.npy"));
  ASSERT_EQ(classes.sizes(), at::IntArrayRef({d.num_nodes()}));
  ASSERT_EQ(probabilities.sizes(), at::IntArrayRef({d.num_nodes(), d.num_classes}));
  EXPECT_TRUE(at::equal(probabilities.argmax(1), classes));
  EXPECT_TRUE(at::allclose(probabilities.sum(1), at::ones({d.num_nodes()}), 1e-5, 1e-6));
  // The classes on the test split give the accuracy of the manifest and of training's last
  // evaluation (the checkpoint holds the weights after the last epoch).
  const at::Tensor test = d.test_mask;
  const double accuracy =
      classes.masked_select(test).eq(d.labels.masked_select(test)).to(at::kDouble).mean().item<double>();
  EXPECT_DOUBLE_EQ(accuracy, manifest["accuracy"]["test"].get<double>());
  std::ifstream metrics(dir.path("m.jsonl"));
  std::string line, last;
  while (std::getline(metrics, line)) last = line;
  EXPECT_DOUBLE_EQ(accuracy, nlohmann::json::parse(last)["test_acc"].get<double>());
  // The CSV: a header, then node, class, top probability per node in node order.
  std::ifstream csv(dir.path("one/predictions.csv"));
  std::getline(csv, line);
  EXPECT_EQ(line, "node,class,probability");
  std::getline(csv, line);
  EXPECT_EQ(line.substr(0, line.find(',', 2) + 1), "0," + std::to_string(classes[0].item<int64_t>()) + ",");

  ASSERT_EQ(halo("partition tiny --parts 2 -o " + dir.path("parts")).code, 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  const Outcome two =
      test::run(std::string(HALO_MPIEXEC) + " --oversubscribe -np 2 " + HALO_BIN + " predict --parts " +
                dir.path("parts") + " --model " + dir.path("ckpt") + " -o " + dir.path("two") + " --hidden-layer 0");
  ASSERT_EQ(two.code, 0) << two.out;
  EXPECT_TRUE(at::equal(npy(dir.path("two/classes.npy")), classes));
  EXPECT_TRUE(at::allclose(npy(dir.path("two/probabilities.npy")), probabilities, 1e-5, 1e-7));
  EXPECT_EQ(nlohmann::json::parse(read(dir.path("two/predictions.json")))["accuracy"], manifest["accuracy"]);
  ASSERT_EQ(halo("predict tiny --model " + dir.path("ckpt") + " -o " + dir.path("hidden") + " --hidden-layer 0").code,
            0);
  const at::Tensor hidden = npy(dir.path("hidden/hidden_layer_0.npy"));
  EXPECT_EQ(hidden.size(0), d.num_nodes());
  EXPECT_TRUE(hidden.ge(0).all().item<bool>()) << "activated (ReLU) output";
  EXPECT_TRUE(at::allclose(npy(dir.path("two/hidden_layer_0.npy")), hidden, 1e-5, 1e-6));
}

TEST(PredictCli, RefusesWhatItCannotDoAndKeepsWhatItDoesNotOwn) {
  test::TempDir dir;
  ASSERT_EQ(halo("train tiny --epochs 1 --checkpoint " + dir.path("ckpt")).code, 0);
  const std::string predict = "predict tiny --model " + dir.path("ckpt") + " -o ";
  // A folder holding someone else's files is not written into.
  dir.write("mine/notes.txt", "keep");
  const Outcome foreign = halo(predict + dir.path("mine"), true);
  EXPECT_EQ(foreign.code, 2) << foreign.out;
  EXPECT_EQ(read(dir.path("mine/notes.txt")), "keep");
  // An earlier prediction is replaced only when asked, and what it wrote that this run does not
  // (another hidden layer) goes with it.
  ASSERT_EQ(halo(predict + dir.path("out") + " --hidden-layer 0").code, 0);
  EXPECT_EQ(halo(predict + dir.path("out")).code, 2);
  ASSERT_EQ(halo(predict + dir.path("out") + " --overwrite").code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/hidden_layer_0.npy")));
  EXPECT_TRUE(std::filesystem::exists(dir.path("out/classes.npy")));
  // A hidden layer the model does not have; a model for another data set; no checkpoint.
  const Outcome layer = halo(predict + dir.path("l") + " --hidden-layer 1", true);
  EXPECT_EQ(layer.code, 2);
  EXPECT_NE(layer.out.find("hidden layers are 0 to 0"), std::string::npos) << layer.out;
  const Outcome other = halo("predict community:nodes=300 --model " + dir.path("ckpt") + " -o " + dir.path("c"), true);
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.out.find("the model takes"), std::string::npos) << other.out;
  EXPECT_EQ(halo("predict tiny --model " + dir.path("none") + " -o " + dir.path("n")).code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.path("l")));
}

}  // namespace
}  // namespace halo
