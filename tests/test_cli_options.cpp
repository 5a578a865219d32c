// Every numeric option of every command, and every generator spec key, on values that are not
// finite, negative, or huge: a usage error (exit 2) naming the option and its bounds, before any
// work. Plus the other classes of issue 16 (7-10, 15): config-file values, sizes beyond memory,
// a diverged run, and one exit-code rule for every command and halo-run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

const std::string kHalo = HALO_BIN;
const std::string kHaloRun = std::filesystem::path(HALO_BIN).replace_filename("halo-run").string();

using test::halo;

void expect_usage(const std::string& command, const Outcome& r, const std::string& message) {
  EXPECT_EQ(r.code, 2) << command << "\n" << r.out;
  EXPECT_NE(r.out.find(message), std::string::npos) << command << "\nexpected: " << message << "\n" << r.out;
}

struct NumericOption {
  std::string before, option, after;  // the command line is: before option VALUE after
  bool whole;                         // a count or seed: whole numbers only
};

TEST(CliOptions, EveryNumericOptionRefusesNonFiniteNegativeAndHugeValues) {
  test::TempDir dir;
  const std::string out = " -o " + dir.path("out");
  const std::vector<NumericOption> options = {
      {kHalo, "--threads", " info tiny", true},
      {kHalo + " train tiny", "--deadline", "", false},
      {kHalo + " train tiny", "--boundary-rate", "", false},
      {kHalo + " train tiny --pipeline", "--smoothing-gamma", "", false},
      {kHalo + " train tiny", "--inject-stall 0:", "", true},
      {kHalo + " train tiny", "--layers", "", true},
      {kHalo + " train tiny", "--hidden", "", true},
      {kHalo + " train tiny", "--heads", "", true},
      {kHalo + " train tiny", "--dropout", "", false},
      {kHalo + " train tiny", "--lr", "", false},
      {kHalo + " train tiny", "--weight-decay", "", false},
      {kHalo + " train tiny", "--epochs", "", true},
      {kHalo + " train tiny", "--eval-every", "", true},
      {kHalo + " train tiny", "--seed", "", true},
      {kHalo + " train tiny", "--checkpoint-every", "", true},
      {kHalo + " partition tiny" + out, "-k", "", true},
      {kHalo + " igcn tiny", "--input-density", "", false},
      {kHalo + " predict tiny --model none" + out, "--hidden-layer", "", true},
      {kHalo + " predict tiny --model none" + out, "--deadline", "", false},
      {kHalo + " partition tiny -k 2" + out, "--imbalance", "", false},
      {kHalo + " partition tiny -k 2" + out, "--seed", "", true},
      {kHaloRun + " --dry-run", "-n", " info tiny", true},
      {kHaloRun + " --dry-run -n 1", "--ranks-per-node", " info tiny", true},
      {kHaloRun + " --dry-run -n 1", "--threads", " info tiny", true},
  };
  // Each option meets one bad value, each kind of bad value several options (a run costs seconds).
  const std::vector<std::string> values = {"nan", "-1", "1e300", "inf", "1e40"};
  for (size_t i = 0; i < options.size(); ++i) {
    const NumericOption& o = options[i];
    // The name in the message: the long one.
    std::string name = o.option.substr(0, o.option.find(' '));
    if (name == "-k") name = "--parts";
    if (name == "-n") name = "--ranks";
    const std::string kind = o.whole ? " must be a whole number in [" : " must be a finite number in [";
    const std::string& value = values[i % values.size()];
    const std::string command = o.before + " " + o.option + (o.option.back() == ':' ? "" : " ") + value + o.after;
    const Outcome r = test::run(command, true);
    expect_usage(command, r, name + kind);
    EXPECT_NE(r.out.find("], got " + value), std::string::npos) << command << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path("out")));
}

TEST(CliOptions, BoundsReadAsPeopleWriteThem) {
  expect_usage("--lr 0", halo("train tiny --lr 0", true), "--lr must be a finite number in [1e-12, 1e+30], got 0");
  expect_usage("--dropout 1", halo("train tiny --dropout 1", true),
               "--dropout must be a finite number in [0, 0.999], got 1");
  expect_usage("--seed -1", halo("train tiny --seed -1", true),
               "--seed must be a whole number in [0, 18446744073709551615], got -1");
  expect_usage("--seed 2^70", halo("train tiny --seed 1180591620717411303424", true),
               "--seed must be a whole number in [0, 18446744073709551615], got 1180591620717411303424");
  expect_usage("--epochs 1.5", halo("train tiny --epochs 1.5", true),
               "--epochs must be a whole number in [0, 2147483647], got 1.5");
}

TEST(CliOptions, ThreadsAreCapped) {
  const Outcome r = halo("--threads 100000 train tiny --epochs 1", true);
  expect_usage("--threads 100000", r, "--threads must be a whole number in [0, ");
  EXPECT_NE(r.out.find("got 100000"), std::string::npos) << r.out;
}

TEST(CliOptions, ConfigFileValuesNameTheFileAndKey) {
  test::TempDir dir;
  for (const auto& [json, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"epochs": -1})", "\"epochs\": --epochs must be a whole number in [0, 2147483647], got -1"},
           {R"({"lr": "nan"})", "\"lr\": --lr must be a finite number in [1e-12, 1e+30], got nan"},
           {R"({"threads": 1e9})", "\"threads\": --threads must be a whole number in [0, "}}) {
    const std::string file = dir.write("run.json", json);
    expect_usage(json, halo("train tiny --config " + file, true), file + ": " + message);
  }
}

TEST(CliOptions, GeneratorSpecKeysRefuseBadValues) {
  test::TempDir dir;
  const std::vector<std::string> keys = {"nodes", "scale", "degree", "classes", "features", "homophily", "snr", "seed"};
  const std::vector<std::string> values = {"nan", "-1", "1e300", "inf"};
  for (size_t i = 0; i < keys.size() * 2; ++i) {  // every key, each with two of the values
    const std::string spec = "tiny:" + keys[i % keys.size()] + "=" + values[(i + i / keys.size()) % values.size()];
    const std::string command = "generate " + spec + " -o " + dir.path("g.bin");
    expect_usage(command, halo(command, true), "preset spec '" + spec + "': ");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path("g.bin")));
}

// Sizes from options, specs and files are checked against the memory before anything is allocated.
TEST(CliOptions, SizesBeyondMemoryNameTheirSource) {
  test::TempDir dir;
  expect_usage("--hidden", halo("train tiny --epochs 1 --hidden 2000000000", true),
               "--hidden 2000000000 (2 layers on 400 nodes of 16 features) needs at least");
  expect_usage("spec", halo("generate tiny:nodes=1000000000,features=100000 -o " + dir.path("g.bin"), true),
               "preset spec 'tiny:nodes=1000000000,features=100000': ");
  ASSERT_EQ(halo("convert tiny --format plain -o " + dir.path("plain"), true).code, 0);
  const std::string meta = dir.path("plain/meta.txt");
  std::ifstream in(meta);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  text.replace(text.find("num_features 16"), 15, "num_features 4000000000");
  dir.write("plain/meta.txt", text);
  const Outcome r = halo("info " + dir.path("plain"), true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(meta + ": num_features 4000000000 for 400 nodes needs at least"), std::string::npos) << r.out;
}

TEST(CliOptions, DivergedRunStopsWithExit1NamingTheEpoch) {
  const Outcome r = halo("train tiny --epochs 20 --lr 1e30", true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(": the training loss is "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the run diverged"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("final loss"), std::string::npos) << r.out;
}

// Every rank sees the allreduced loss, so all stop at the same epoch and the job fails with 1.
TEST(CliOptions, DivergedDistributedRunStopsOnEveryRank) {
  test::TempDir dir;
  ASSERT_EQ(halo("partition tiny -k 2 -o " + dir.path("p"), true).code, 0);
  const Outcome r =
      test::run(kHaloRun + " --oversubscribe train --parts " + dir.path("p") + " --epochs 20 --lr 1e30", true);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("the run diverged"), std::string::npos) << r.out;
}

TEST(CliOptions, PlotDrawsNullLossesAsGaps) {
  test::TempDir dir;
  std::string lines;
  for (int e = 0; e < 4; ++e) {
    const std::string n = std::to_string(e + 1);
    lines += "{\"epoch\": " + std::to_string(e) + ", \"loss\": " + (e == 2 ? "null" : "1." + n) +
             ", \"epoch_seconds\": 0." + n + ", \"bytes_sent\": " + n + "00, \"train_acc\": 0." + n +
             ", \"val_acc\": 0." + n + ", \"test_acc\": 0." + n + "}\n";
  }
  const Outcome r = halo("plot " + dir.write("m.jsonl", lines) + " -o " + dir.path("pics"), true);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(dir.path("pics/epochs.dat"));
  const std::string dat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(dat.find("\n2 NaN "), std::string::npos) << dat;
}

// One rule for every command: usage 2, runtime 1, whatever the launcher or file reports.
TEST(CliOptions, ExitCodesFollowOneRule) {
  test::TempDir dir;
  const std::string mpirun = dir.write("mpirun", "#!/bin/sh\nexit 255\n");
  std::filesystem::permissions(mpirun, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  EXPECT_EQ(test::run(kHaloRun + " --mpirun " + mpirun + " -n 1 info tiny").code, 1);
  // --accel, like --config, is a file of options: anything wrong with it is a usage error.
  const Outcome r = halo("igcn tiny --accel " + dir.write("accel.json", "{"), true);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("accel.json: not valid JSON"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace halo
