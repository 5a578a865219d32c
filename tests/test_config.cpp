// `halo train --config FILE.json`: the same options as the flags, flags winning, the resolved
// configuration written beside the metrics repeating the run, and bad files named with the line
// or key at fault.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.h"

namespace halo {
namespace {

using test::Outcome;

Outcome halo_train(const std::string& args) {
  return test::run(std::string(HALO_BIN) + " --log-level warn train " + args, true);
}

nlohmann::json last_json_line(const std::string& out) {
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '{') last = line;
  }
  return nlohmann::json::parse(last);
}

TEST(ConfigFile, ResolvedConfigurationRepeatsTheRun) {
  test::TempDir dir;
  const Outcome first =
      halo_train("tiny --epochs 6 --hidden 8 --seed 3 --model sage --json --metrics " + dir.path("first.jsonl"));
  ASSERT_EQ(first.code, 0) << first.out;
  std::ifstream file(dir.path("first.config.json"));
  ASSERT_TRUE(file.good()) << "no resolved configuration beside the metrics";
  const nlohmann::json config = nlohmann::json::parse(file);
  EXPECT_EQ(config["dataset"], "tiny");
  EXPECT_EQ(config["epochs"], 6);
  EXPECT_EQ(config["model"], "sage");
  EXPECT_EQ(config["lr"], 0.01);  // a default, written too
  const Outcome again =
      halo_train("--config " + dir.path("first.config.json") + " --json --metrics " + dir.path("again.jsonl"));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(last_json_line(again.out)["final_loss"], last_json_line(first.out)["final_loss"]);
  EXPECT_EQ(last_json_line(again.out)["epochs"], 6);
}

TEST(ConfigFile, CommandLineWins) {
  test::TempDir dir;
  const std::string config = dir.write("run.json", R"({"dataset": "tiny", "epochs": 7, "hidden": [8]})");
  const Outcome r = halo_train("--config " + config + " --epochs 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(last_json_line(r.out)["epochs"], 2);
}

TEST(ConfigFile, BadFilesNameTheProblem) {
  test::TempDir dir;
  const auto expect_usage_error = [&](const std::string& name, const std::string& text,
                                      std::initializer_list<std::string> parts) {
    const std::string path = dir.write(name, text);
    const Outcome r = halo_train("--config " + path);
    EXPECT_EQ(r.code, 2) << name << ": " << r.out;
    for (const std::string& part : parts) EXPECT_NE(r.out.find(part), std::string::npos) << name << ": " << r.out;
  };
  expect_usage_error("syntax.json", "{\n  \"epochs\": 3,\n  \"lr\": ,\n}\n", {"syntax.json", "line 3"});
  expect_usage_error("unknown.json", R"({"dataset": "tiny", "lrate": 0.1})",
                     {"unknown.json", "\"lrate\" is not an option of `halo train`"});
  expect_usage_error("object.json", R"({"dataset": "tiny", "lr": {"value": 0.1}})",
                     {"object.json", "\"lr\": expected a string, number, boolean or array", "got object"});
  expect_usage_error("array.json", R"([1, 2])", {"array.json", "expected a JSON object", "got array"});
  expect_usage_error("value.json", R"({"dataset": "tiny", "epochs": "many"})", {"epochs", "many"});
  const Outcome missing = halo_train("--config " + dir.path("absent.json"));
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("absent.json"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace halo
