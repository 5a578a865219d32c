// `halo`: the command-line front end. Exit codes: 0 success, 1 runtime error (bad input file,
// failed step), 2 usage error (bad flags or values).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <tbb/global_control.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "comm/communicator.h"
#include "core/blas_check.h"
#include "core/error.h"
#include "core/threads.h"
#include "launch/cli_checks.h"
#include "launch/cli_common.h"
#include "launch/json_config.h"

namespace {

// Reports the error; in a job of several ranks, also ends the others, which would otherwise wait
// for this one until their deadline.
int fail(const std::exception& e, int code) {
  spdlog::error("{}", e.what());
  if (halo::mpi_started()) halo::abort_job(code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("halo"));
  spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");
  try {
    halo::select_blas_kernel(argv);  // may start this program again, with other BLAS kernels
  } catch (const std::exception& e) {
    return fail(e, 1);
  }

  CLI::App app("Halo: full-graph GNN training across many processes.", "halo");
  app.require_subcommand(1);
  app.set_version_flag("--version", "halo 0.1.0");
  // Options of `halo` itself (--threads, --config) may also follow the subcommand.
  app.fallthrough();
  app.config_formatter(std::make_shared<halo::cli::JsonConfig>(&app));
  app.set_config("--config", "", "Read the command's options from a JSON file (options on the command line win)");
  int threads = 0;
  std::string log_level = "info";
  halo::cli::whole_in(app.add_option("--threads", threads,
                                     "Threads per process (default: the cores divided among the ranks on this host)"),
                      0, halo::max_threads());
  app.add_option("--log-level", log_level, "Log verbosity")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  std::unique_ptr<tbb::global_control> thread_limit;
  halo::BlasReport blas;
  app.parse_complete_callback([&] {
    spdlog::set_level(spdlog::level::from_str(log_level));
    thread_limit = halo::use_threads(threads);
    blas = halo::blas_report();
    // Once per job: the ranks of a host share its BLAS.
    if (halo::cli::leading_process()) halo::log_blas_report(blas);
  });
  halo::cli::add_generate_commands(app);
  halo::cli::add_info_command(app);
  halo::cli::add_partition_command(app);
  halo::cli::add_train_command(app, blas);
  halo::cli::add_predict_command(app);
  halo::cli::add_igcn_command(app);
  halo::cli::add_plot_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const halo::UsageError& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
  return 0;
}
