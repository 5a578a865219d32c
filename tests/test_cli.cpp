// The `halo` binary end to end: exit codes (0 ok, 1 runtime error, 2 usage error), --json
// output, and error messages that reach the user.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

Outcome halo(const std::string& args, bool with_stderr = false) {
  return test::run(std::string(HALO_BIN) + " " + args, with_stderr);
}

TEST(Cli, HelpForEveryCommand) {
  for (const char* cmd : {"", "generate", "convert", "info", "partition"}) {
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

}  // namespace
}  // namespace halo
