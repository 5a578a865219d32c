// `halo partition`: cut a dataset into K parts and write the partition directory.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>

#include "datasets/dataset_source.h"
#include "launch/cli_checks.h"
#include "launch/cli_common.h"
#include "partition/partition_dir.h"

namespace halo::cli {

void add_partition_command(CLI::App& app) {
  struct Args {
    std::string spec, output;
    int32_t parts = 2;
    PartitionMethod method = PartitionMethod::metis;
    PartitionObjective objective = PartitionObjective::volume;
    std::vector<std::string> balance{"nodes"};
    double imbalance = 1.03;
    uint64_t seed = 0;
    bool json = false, overwrite = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("partition", "Partition a dataset into K parts, one per rank");
  cmd->add_option("dataset", a.spec, "Dataset: a path, a preset, or a folder name under $HALO_DATA")->required();
  whole_in(cmd->add_option("-k,--parts", a.parts, "Number of parts (= MPI ranks)"), 1, kMaxCount)->required();
  cmd->add_option("-o,--output", a.output, "Partition directory to write")->required();
  cmd->add_option("--method", a.method, "metis or random (baseline)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, PartitionMethod>{{"metis", PartitionMethod::metis},
                                                                                 {"random", PartitionMethod::random}}))
      ->option_text("metis|random");
  cmd->add_option("--objective", a.objective, "METIS objective: vol (communication volume) or cut (edge cut)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, PartitionObjective>{{"vol", PartitionObjective::volume},
                                                                                    {"cut", PartitionObjective::cut}}))
      ->option_text("vol|cut");
  cmd->add_option("--balance", a.balance, "Balance constraints, comma-separated: nodes,edges,train")
      ->delimiter(',')
      ->check(CLI::IsMember({"nodes", "edges", "train"}));
  number_in(cmd->add_option("--imbalance", a.imbalance, "Largest part / mean part allowed per constraint"), 1, 10);
  whole_in(cmd->add_option("--seed", a.seed, "Partitioner seed"), 0, UINT64_MAX);
  cmd->add_flag("--overwrite", a.overwrite,
                "Replace the partition in -o (only the files its meta.json lists, once the new one is written)");
  cmd->add_flag("--json", a.json, "Print the statistics as one JSON object");
  cmd->callback([] {
    check_partition_output(a.output, a.overwrite, "-o");
    const Dataset d = load_dataset(a.spec);
    spdlog::info("{}", describe(d));
    auto has = [](const char* what) { return std::find(a.balance.begin(), a.balance.end(), what) != a.balance.end(); };
    const PartitionOptions options = PartitionOptions()
                                         .num_parts(a.parts)
                                         .method(a.method)
                                         .objective(a.objective)
                                         .balance_edges(has("edges"))
                                         .balance_train(has("train"))
                                         .imbalance(a.imbalance)
                                         .seed(a.seed);
    const PartitionStats stats = write_partition(d, options, a.output, a.spec, a.overwrite);
    nlohmann::json j = stats.to_json();
    j["output"] = a.output;
    emit(a.json, j,
         fmt::format("{} -> {} ({} parts, {}{})\n{}", d.name, a.output, a.parts, to_string(a.method),
                     a.method == PartitionMethod::metis ? "/" + to_string(a.objective) : "", stats.report()));
  });
}

}  // namespace halo::cli
