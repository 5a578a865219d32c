// `halo partition`: cut a dataset into K parts and write the partition directory.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>

#include "datasets/dataset_source.h"
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
    bool json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("partition", "Partition a dataset into K parts, one per rank");
  cmd->add_option("dataset", a.spec, "Dataset: a path, a preset, or a folder name under $HALO_DATA")->required();
  cmd->add_option("-k,--parts", a.parts, "Number of parts (= MPI ranks)")->required()->check(CLI::PositiveNumber);
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
  cmd->add_option("--imbalance", a.imbalance, "Largest part / mean part allowed per constraint")
      ->check(CLI::Range(1.0, 10.0));
  cmd->add_option("--seed", a.seed, "Partitioner seed");
  cmd->add_flag("--json", a.json, "Print the statistics as one JSON object");
  cmd->callback([] {
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
    const PartitionStats stats = write_partition(d, options, a.output, a.spec);
    nlohmann::json j = stats.to_json();
    j["output"] = a.output;
    emit(a.json, j,
         fmt::format("{} -> {} ({} parts, {}{})\n{}", d.name, a.output, a.parts, to_string(a.method),
                     a.method == PartitionMethod::metis ? "/" + to_string(a.objective) : "", stats.report()));
  });
}

}  // namespace halo::cli
