// `halo generate` (a preset graph) and `halo convert` (any dataset) write a dataset file.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/resources.h"
#include "datasets/dataset_source.h"
#include "datasets/presets.h"
#include "launch/cli_common.h"

namespace halo::cli {
namespace {

struct WriteArgs {
  std::string spec, output;
  DatasetFormat format = DatasetFormat::binary;
  bool json = false;
};

void add_write_options(CLI::App* cmd, WriteArgs& a, const std::string& spec_help) {
  cmd->add_option("dataset", a.spec, spec_help)->required();
  cmd->add_option("-o,--output", a.output, "Output: a binary cache file, or a folder with --format plain")->required();
  cmd->add_option("--format", a.format, "binary (fast reload) or plain (the text layout of shared/datasets)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, DatasetFormat>{{"binary", DatasetFormat::binary}, {"plain", DatasetFormat::plain}}))
      ->option_text("binary|plain");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
}

// Before the data set is made (which can take minutes): the writers refuse, and never open,
// a path that is not a regular file, here a device or FIFO inside a plain folder too.
void check_output(const WriteArgs& a) {
  if (a.format == DatasetFormat::binary) {
    check_output_path(a.output, "-o");
    return;
  }
  if (std::filesystem::exists(a.output) && !std::filesystem::is_directory(a.output)) {
    throw Error(fmt::format("-o {}: --format plain writes a folder, and this is not one", a.output));
  }
  if (!std::filesystem::is_directory(a.output)) return;
  for (const auto& entry : std::filesystem::directory_iterator(a.output)) {
    if (!entry.is_directory()) check_output_path(entry.path().string(), "-o");
  }
}

void run_write(const WriteArgs& a) {
  check_output(a);
  Stopwatch clock;
  const Dataset d = load_dataset(a.spec);
  const double made = clock.seconds();
  save_dataset(d, a.output, a.format);
  emit(a.json,
       {{"name", d.name},
        {"num_nodes", d.num_nodes()},
        {"num_edges", d.graph.num_edges()},
        {"num_features", d.num_features()},
        {"num_classes", d.num_classes},
        {"output", a.output},
        {"load_seconds", made},
        {"total_seconds", clock.seconds()}},
       fmt::format("{}\nwrote {} in {:.2f} s\n", describe(d), a.output, clock.seconds()));
}

}  // namespace

void add_generate_commands(CLI::App& app) {
  static WriteArgs generate, convert;
  CLI::App* gen = app.add_subcommand("generate", "Generate a synthetic graph from a preset and write it");
  add_write_options(gen, generate,
                    "Preset, optionally with overrides: NAME:key=value,... (keys: nodes, scale, degree, classes, "
                    "features, homophily, snr, seed)");
  gen->footer("Presets:\n" + describe_presets());
  gen->callback([] {
    if (!is_preset(generate.spec)) throw CLI::ValidationError("dataset", "'" + generate.spec + "' is not a preset");
    run_write(generate);
  });
  CLI::App* conv = app.add_subcommand("convert", "Load any dataset and write it as a binary cache or plain text");
  add_write_options(conv, convert, "Dataset: a path, a preset, or a folder name under $HALO_DATA");
  conv->callback([] { run_write(convert); });
}

}  // namespace halo::cli
