#pragma once
// Pieces every `halo` subcommand shares: result output (text or --json) and the
// PartitionMethod/Objective names.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace CLI {
class App;
}

namespace halo::cli {

// Prints the result of a command: `json` when --json was given, `text` otherwise.
inline void emit(bool as_json, const nlohmann::json& json, const std::string& text) {
  if (as_json) {
    std::cout << json.dump() << std::endl;
  } else {
    std::cout << text << std::flush;
  }
}

void add_generate_commands(CLI::App& app);
void add_info_command(CLI::App& app);
void add_partition_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_igcn_command(CLI::App& app);
void add_plot_command(CLI::App& app);

}  // namespace halo::cli
