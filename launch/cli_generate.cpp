// `halo generate` (a preset graph) and `halo convert` (any dataset) write a dataset file.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <map>

#include "core/atomic_file.h"
#include "core/resources.h"
#include "datasets/binary_cache.h"
#include "datasets/dataset_source.h"
#include "datasets/plain_loader.h"
#include "datasets/presets.h"
#include "launch/cli_common.h"

namespace halo::cli {
namespace {

struct WriteArgs {
  std::string spec, output;
  DatasetFormat format = DatasetFormat::binary;
  bool json = false, overwrite = false;
};

void add_write_options(CLI::App* cmd, WriteArgs& a, const std::string& spec_help) {
  cmd->add_option("dataset", a.spec, spec_help)->required();
  cmd->add_option("-o,--output", a.output, "Output: a binary cache file, or a folder with --format plain")->required();
  cmd->add_option("--format", a.format, "binary (fast reload) or plain (the text layout of shared/datasets)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, DatasetFormat>{{"binary", DatasetFormat::binary}, {"plain", DatasetFormat::plain}}))
      ->option_text("binary|plain");
  cmd->add_flag("--overwrite", a.overwrite, "With --format plain: replace the dataset in -o (its files only)");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
}

// Before the data set is made (which can take minutes): the writers refuse, and never open,
// a path that is not a regular file, and a plain folder holding anything not theirs to replace.
void check_output(const WriteArgs& a) {
  if (a.format == DatasetFormat::binary) {
    check_output_path(a.output, "-o");
  } else {
    check_plain_output(a.output, a.overwrite, "-o");
  }
}

void run_write(const WriteArgs& a) {
  check_output(a);
  Stopwatch clock;
  const Dataset d = load_dataset(a.spec);
  const double made = clock.seconds();
  if (a.format == DatasetFormat::plain) {
    save_plain(d, a.output, a.overwrite);
  } else {
    save_binary(d, a.output);
  }
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
