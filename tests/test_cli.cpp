// The `halo` binary end to end: exit codes (0 ok, 1 runtime error, 2 usage error), --json
// output, and error messages that reach the user.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <torch/cuda.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

using test::halo;

TEST(Cli, HelpForEveryCommand) {
  for (const char* cmd : {"", "generate", "convert", "info", "partition", "train", "igcn", "plot"}) {
    const Outcome r = halo(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd;
  }
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(halo("").code, 2);
  EXPECT_EQ(halo("frobnicate").code, 2);
  EXPECT_EQ(halo("partition tiny -o /tmp/x").code, 2);            // --parts missing
  EXPECT_EQ(halo("partition tiny --parts 0 -o /tmp/x").code, 2);  // not positive
  EXPECT_EQ(halo("partition tiny --parts 2 --method best -o /tmp/x").code, 2);
  EXPECT_EQ(halo("partition tiny --parts 2 --balance speed -o /tmp/x").code, 2);
  const Outcome unknown = halo("info no-such-dataset", true);
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.out.find("unknown dataset 'no-such-dataset'"), std::string::npos) << unknown.out;
  EXPECT_EQ(halo("generate cora -o /tmp/x").code, 2);  // not a preset
}

TEST(Cli, RuntimeErrorsExitWithOneAndSayWhere) {
  test::TempDir dir;
  dir.write("bad/meta.txt", "num_features 2\n");
  dir.write("bad/labels.txt", "0\n1\n");
  dir.write("bad/edges.txt", "0 1\n1 zz\n");
  const Outcome r = halo("info " + dir.path("bad"), true);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("edges.txt:2: expected an integer"), std::string::npos) << r.out;
}

// Outputs that cannot be written fail the run before its first epoch, naming the path.
TEST(Cli, UnwritableOutputsFailBeforeTraining) {
  test::TempDir dir;
  dir.write("file", "not a folder\n");
  const std::string under_file = dir.path("file");
  const Outcome metrics = halo("train tiny --epochs 3 --metrics " + under_file + "/m.jsonl", true);
  EXPECT_EQ(metrics.code, 1);
  EXPECT_NE(metrics.out.find("cannot write metrics file " + under_file + "/m.jsonl: Not a directory"),
            std::string::npos)
      << metrics.out;
  // The metrics of a run show how far it got: not one epoch.
  const std::string log = dir.path("m.jsonl");
  const Outcome checkpoint =
      halo("train tiny --epochs 3 --metrics " + log + " --checkpoint " + under_file + "/c", true);
  EXPECT_EQ(checkpoint.code, 1);
  EXPECT_NE(checkpoint.out.find("cannot create checkpoint folder " + under_file + "/c: Not a directory"),
            std::string::npos)
      << checkpoint.out;
  EXPECT_EQ(std::filesystem::exists(log) ? std::filesystem::file_size(log) : 0u, 0u) << "trained before failing";
}

// --device cuda without a GPU (this build's LibTorch is CPU-only, or none is visible) is a usage
// error that says which, before any data is read; --comm nccl needs ranks.
TEST(Cli, DeviceWithoutAGpuIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible: --device cuda trains";
  const Outcome cuda = halo("train tiny --epochs 1 --device cuda", true);
  EXPECT_EQ(cuda.code, 2);
  EXPECT_NE(cuda.out.find("--device cuda: rank 0 sees no GPU"), std::string::npos) << cuda.out;
  EXPECT_EQ(cuda.out.find("tiny:"), std::string::npos) << "read the data first: " << cuda.out;
  const Outcome nccl = halo("train tiny --epochs 1 --comm nccl", true);
  EXPECT_EQ(nccl.code, 2);
  EXPECT_NE(nccl.out.find("--comm nccl needs a distributed run"), std::string::npos) << nccl.out;
}

void expect_png(const std::string& path) {
  std::ifstream png(path, std::ios::binary);
  std::string head(8, '\0');
  png.read(head.data(), 8);
  EXPECT_EQ(head, "\x89PNG\r\n\x1a\n") << path;
  png.seekg(0, std::ios::end);
  EXPECT_GT(png.tellg(), 5000) << path << ": too small to hold a plot";
}

// `halo plot`: four PNG pictures from a run's metrics, and bad metrics named by file and line.
TEST(Cli, PlotDrawsTheRun) {
  test::TempDir dir;
  const std::string metrics = dir.path("run.jsonl");
  ASSERT_EQ(halo("train tiny --epochs 6 --eval-every 2 --metrics " + metrics).code, 0);
  const Outcome r = halo("plot " + metrics + " -o " + dir.path("pictures") + " --json", true);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto pictures = nlohmann::json::parse(r.out.substr(r.out.find('{')))["pictures"];
  ASSERT_EQ(pictures.size(), 4u);
  for (const auto& p : pictures) expect_png(p.get<std::string>());
  const auto expect_error = [&](const std::string& text, const std::string& part) {
    const Outcome bad = halo("plot " + dir.write("bad.jsonl", text) + " -o " + dir.path("bad"), true);
    EXPECT_EQ(bad.code, 1) << bad.out;
    EXPECT_NE(bad.out.find(part), std::string::npos) << bad.out;
  };
  expect_error(R"({"epoch": 0, "loss": 1, "epoch_seconds": 1, "bytes_sent": 0})"
               "\n{oops\n",
               "bad.jsonl:2: not a JSON object");
  expect_error(R"({"epoch": 0, "epoch_seconds": 1, "bytes_sent": 0})", "bad.jsonl:1: expected a number \"loss\"");
  expect_error("", "bad.jsonl: no epochs");
  const Outcome missing = halo("plot " + dir.path("absent.jsonl") + " -o " + dir.path("bad"), true);
  EXPECT_NE(missing.out.find("absent.jsonl: cannot open the metrics file"), std::string::npos) << missing.out;
  // A distributed run's lines: the strategy in the titles, and a picture of each layer's exposed
  // and total communication. Without an evaluated epoch (a run stopped early) there is no
  // accuracy picture, and the others are still drawn.
  const std::string line =
      R"({"epoch": 0, "loss": 1, "epoch_seconds": 1, "bytes_sent": 9, "halo_sync": "sampled+stale", )"
      R"("by_layer": {"exposed_comm_seconds": [0.1, 0.2], "total_comm_seconds": [0.3, 0.5]}})";
  const Outcome layered =
      halo("plot " + dir.write("ranks.jsonl", line + "\n" + line) + " -o " + dir.path("l") + " --json", true);
  ASSERT_EQ(layered.code, 0) << layered.out;
  const auto drawn = nlohmann::json::parse(layered.out.substr(layered.out.find('{')))["pictures"];
  ASSERT_EQ(drawn.size(), 4u) << drawn;
  EXPECT_EQ(drawn.back(), dir.path("l") + "/comm_per_layer.png");
  for (const auto& p : drawn) expect_png(p.get<std::string>());
  std::ifstream script(dir.path("l") + "/plot.gp");
  std::string first;
  std::getline(script, first);
  EXPECT_EQ(first, "strategy = \"; halo: sampled+stale\"");
  std::ifstream layers(dir.path("l") + "/layers.dat");
  const std::string table((std::istreambuf_iterator<char>(layers)), std::istreambuf_iterator<char>());
  EXPECT_NE(table.find("\n1 0.1 0.3\n2 0.2 0.5\n"), std::string::npos) << table;
  // A name that is not a strategy never reaches the gnuplot script.
  expect_error(R"j({"epoch": 0, "loss": 1, "epoch_seconds": 1, "bytes_sent": 0, "halo_sync": "x\"; system(\"id\")"})j",
               "bad.jsonl:1: expected \"halo_sync\" to name a strategy");
  expect_error(line + "\n" +
                   R"({"epoch": 1, "loss": 1, "epoch_seconds": 1, "bytes_sent": 0, )"
                   R"("by_layer": {"exposed_comm_seconds": [0.1], "total_comm_seconds": [0.3]}})",
               "bad.jsonl:2: by_layer lists 1 and 1 layers, earlier lines 2");
  expect_error(
      R"({"epoch": 0, "loss": 1, "epoch_seconds": 1, "bytes_sent": 0, "by_layer": {"exposed_comm_seconds": 1}})",
      "bad.jsonl:1: by_layer.exposed_comm_seconds is not a list");
}

// halo-run builds the mpirun line from its options, counts ranks from the partition and refuses
// a count that does not match it (the multi-host run itself: tests/halo_run_hosts.sh).
TEST(Cli, HaloRunPrintsTheMpirunLine) {
  test::TempDir dir;
  ASSERT_EQ(halo("partition tiny --parts 2 -o " + dir.path("parts")).code, 0);
  const std::string run = std::filesystem::path(HALO_BIN).replace_filename("halo-run").string() + " --dry-run ";
  const Outcome r =
      test::run(run + "--hosts a,b --ranks-per-node 1 --threads 3 --bind core --mca btl tcp,self train --parts " +
                    dir.path("parts") + " --epochs 3",
                true);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("--host a,b --map-by ppr:1:node --bind-to core --mca btl tcp,self -x OMP_NUM_THREADS=3 -np 2 " +
                       std::string(HALO_BIN) + " --threads 3 train --parts " + dir.path("parts") + " --epochs 3"),
            std::string::npos)
      << r.out;
  const Outcome wrong = test::run(run + "-n 3 train --parts " + dir.path("parts"), true);
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.out.find("has 2 parts but -n asks for 3 ranks"), std::string::npos) << wrong.out;
  const Outcome uncounted = test::run(run + "train tiny", true);
  EXPECT_EQ(uncounted.code, 2);
  EXPECT_NE(uncounted.out.find("give the number of ranks (-n N)"), std::string::npos) << uncounted.out;
}

TEST(Cli, GeneratePartitionInfoRoundTrip) {
  test::TempDir dir;
  const Outcome gen = halo("generate tiny:seed=5 -o " + dir.path("tiny.halo") + " --json");
  ASSERT_EQ(gen.code, 0);
  const auto g = nlohmann::json::parse(gen.out);
  const Outcome info = halo("info " + dir.path("tiny.halo") + " --json");
  ASSERT_EQ(info.code, 0);
  const auto i = nlohmann::json::parse(info.out);
  EXPECT_EQ(i["num_nodes"], g["num_nodes"]);
  EXPECT_EQ(i["num_edges"], g["num_edges"]);
  EXPECT_TRUE(i["symmetric"].get<bool>());

  const Outcome part = halo("partition " + dir.path("tiny.halo") + " --parts 3 --balance nodes,edges -o " +
                            dir.path("parts") + " --json");
  ASSERT_EQ(part.code, 0);
  const auto p = nlohmann::json::parse(part.out);
  EXPECT_EQ(p["parts"].size(), 3u);
  EXPECT_GT(p["comm_volume"].get<int64_t>(), 0);

  const Outcome pinfo = halo("info " + dir.path("parts") + " --json");
  ASSERT_EQ(pinfo.code, 0);
  const auto m = nlohmann::json::parse(pinfo.out);
  EXPECT_EQ(m["stats"]["comm_volume"], p["comm_volume"]);
  EXPECT_EQ(m["options"]["balance"], nlohmann::json({"nodes", "edges"}));

  const Outcome text = halo("partition " + dir.path("tiny.halo") + " -k 2 -o " + dir.path("parts2"));
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("communication volume"), std::string::npos) << text.out;
}

TEST(Cli, ConvertsRealDataToPlainAndBack) {
  test::TempDir dir;
  ASSERT_EQ(halo("convert " + test::dataset_dir("cora") + " -o " + dir.path("cora.halo")).code, 0);
  ASSERT_EQ(halo("convert " + dir.path("cora.halo") + " --format plain -o " + dir.path("cora")).code, 0);
  const auto j = nlohmann::json::parse(halo("info " + dir.path("cora") + " --json").out);
  EXPECT_EQ(j["num_nodes"], 2708);
  EXPECT_EQ(j["num_edges"], 10556);
  EXPECT_EQ(j["num_features"], 1433);
}

// Issue 16, item 1: --export, -o and --metrics naming a FIFO or device fail before any work,
// name the path, and leave the FIFO or device in place; a failed convert leaves no .tmp file.
TEST(Cli, OutputsThatAreNotRegularFilesAreRefused) {
  test::TempDir dir;
  std::vector<std::string> specials = {dir.path("fifo")};
  ASSERT_EQ(::mkfifo(specials[0].c_str(), 0666), 0);
  if (::mknod(dir.path("mynull").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) specials.push_back(dir.path("mynull"));
  for (const std::string& target : specials) {
    for (const std::string& cmd :
         {"train tiny --epochs 2 --export " + target, "train tiny --epochs 2 --metrics " + target,
          "generate tiny -o " + target, "convert tiny -o " + target}) {
      const Outcome r = halo(cmd, true);
      EXPECT_EQ(r.code, 1) << cmd;
      EXPECT_NE(r.out.find(target + " is a"), std::string::npos) << cmd << ": " << r.out;
      EXPECT_EQ(r.out.find("epoch"), std::string::npos) << cmd << " trained before refusing: " << r.out;
      struct stat st {};
      ASSERT_EQ(::lstat(target.c_str(), &st), 0);
      EXPECT_FALSE(S_ISREG(st.st_mode)) << cmd << " replaced " << target;
    }
  }
  std::filesystem::create_directories(dir.path("folder"));
  EXPECT_EQ(halo("convert tiny -o " + dir.path("folder")).code, 1);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
  EXPECT_EQ(left.size(), specials.size() + 1) << "a temporary file was left behind";
}

// Issue 16, items 2 and 3 end to end: a fresh run refuses a folder holding a checkpoint (exit 2,
// the checkpoint intact), and --resume appends to the metrics log of the run it continues.
TEST(Cli, CheckpointFolderIsKeptAndMetricsContinue) {
  test::TempDir dir;
  const std::string ck = dir.path("ck"), log = dir.path("m.jsonl");
  ASSERT_EQ(
      halo("train tiny --model gat --epochs 6 --checkpoint-every 3 --checkpoint " + ck + " --metrics " + log).code, 0);
  const Outcome fresh = halo("train tiny --epochs 2 --checkpoint " + ck, true);
  EXPECT_EQ(fresh.code, 2);
  EXPECT_NE(fresh.out.find("checkpoint folder " + ck + " holds a checkpoint"), std::string::npos) << fresh.out;
  EXPECT_TRUE(std::filesystem::exists(ck + "/epoch-000006/model.pt"));
  ASSERT_EQ(halo("train tiny --model gat --epochs 8 --resume --checkpoint " + ck + " --metrics " + log).code, 0);
  std::ifstream in(log);
  int64_t lines = 0, last = -1;
  for (std::string line; std::getline(in, line); ++lines) last = nlohmann::json::parse(line).at("epoch");
  EXPECT_EQ(lines, 8);
  EXPECT_EQ(last, 7);
  EXPECT_EQ(halo("train tiny --model gat --epochs 10 --overwrite --checkpoint " + ck).code, 0);
  EXPECT_FALSE(std::filesystem::exists(ck + "/epoch-000008"));
}

}  // namespace
}  // namespace halo
