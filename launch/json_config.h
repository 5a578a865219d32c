#pragma once
// JsonConfig: a CLI11 configuration formatter for JSON, so that `halo train --config run.json`
// takes the same options as the flags (an option given on the command line wins), and a run's
// resolved options can be written as JSON that repeats it.
//
// A file is one JSON object whose keys are the long option names without dashes ("epochs",
// "boundary-rate"; "dataset" for the positional) of the subcommand run, or of `halo` itself
// ("threads"), and whose values are strings, numbers, booleans (flags) or arrays of those.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace halo::cli {

class JsonConfig : public CLI::Config {
 public:
  // `root`: the app that owns --config (CLI11 reads configuration files for the root only).
  explicit JsonConfig(const CLI::App* root) : root_(root) {}

  // The options of `app` given, and with default_also every other one that has a value and
  // whose needed options (CLI11 needs()) are given too; flags only when on. Plus the options of
  // its parent that were given.
  std::string to_config(const CLI::App* app, bool default_also, bool, std::string) const override;
  // Throws CLI::ConfigError naming the file and the line, key or value at fault.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* root_;
};

}  // namespace halo::cli
