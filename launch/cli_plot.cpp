// `halo plot METRICS.jsonl -o DIR`: PNG pictures of a training run (launch/metrics_plot.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "launch/cli_common.h"
#include "launch/metrics_plot.h"

namespace halo::cli {

void add_plot_command(CLI::App& app) {
  struct Args {
    std::string metrics, out;
    bool json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("plot", "Draw PNG pictures of a run from its metrics (halo train --metrics)");
  cmd->add_option("metrics", a.metrics, "Metrics file: one JSON line per epoch")->required();
  cmd->add_option("-o,--out", a.out, "Folder for the pictures")->required();
  cmd->add_flag("--json", a.json, "Print the written files as JSON");
  cmd->callback([] {
    const std::vector<std::string> written = plot_metrics(a.metrics, a.out);
    std::string text;
    for (const std::string& f : written) text += f + "\n";
    emit(a.json, {{"pictures", written}}, text);
  });
}

}  // namespace halo::cli
