// `--config FILE.json` on arbitrary bytes: JsonConfig and CLI11's use of its items, with options
// like halo train's (numbers with checks, strings, flags, a flag that needs another, a positional).
#include <CLI/CLI.hpp>

#include "fuzz_support.h"
#include "launch/json_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = halo::fuzz::write("run.json", {reinterpret_cast<const char*>(data), size});
  CLI::App app("fuzz", "halo");
  app.fallthrough();
  app.config_formatter(std::make_shared<halo::cli::JsonConfig>(&app));
  app.set_config("--config");
  int threads = 0;
  app.add_option("--threads", threads)->check(CLI::NonNegativeNumber);
  CLI::App* train = app.add_subcommand("train");
  train->option_defaults()->always_capture_default();
  std::string dataset, model = "gcn";
  double lr = 0.01;
  int64_t epochs = 200;
  std::vector<int64_t> stall;
  bool pipeline = false, smooth = false;
  train->add_option("dataset", dataset);
  train->add_option("--model", model)->check(CLI::IsMember({"gcn", "sage", "gat"}));
  train->add_option("--lr", lr)->check(CLI::PositiveNumber);
  train->add_option("--epochs", epochs)->check(CLI::NonNegativeNumber);
  train->add_option("--inject-stall", stall)->expected(2)->delimiter(':');
  CLI::Option* pipe = train->add_flag("--pipeline", pipeline);
  train->add_flag("--smooth-features", smooth)->needs(pipe);
  const char* argv[] = {"halo", "train", "--config", path.c_str()};
  try {
    app.parse(4, argv);
    train->config_to_str(true);
  } catch (const CLI::Error&) {
  }
  return 0;
}
