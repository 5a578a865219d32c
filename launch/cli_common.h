#pragma once
// Pieces every `halo` subcommand shares: result output (text or --json) and the
// PartitionMethod/Objective names.
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/blas_check.h"

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

// Whether this process is rank 0 of a job (or runs alone), read from the MPI launcher's
// environment (OpenMPI's, then MPICH's variable) before MPI starts.
inline bool leading_process() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value) == 0;
  }
  return true;
}

void add_generate_commands(CLI::App& app);
void add_info_command(CLI::App& app);
void add_partition_command(CLI::App& app);
// `blas` is measured at start-up, before the command runs: train reports it with its metrics.
void add_train_command(CLI::App& app, const BlasReport& blas);
void add_igcn_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_predict_command(CLI::App& app);

}  // namespace halo::cli
