// `halo info`: sizes and statistics of a dataset, or the report of a partition directory.
#include <ATen/Functions.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "datasets/dataset_source.h"
#include "launch/cli_common.h"
#include "partition/partition_dir.h"

namespace halo::cli {
namespace {

struct InfoArgs {
  std::string spec;
  bool json = false;
};

void dataset_info(const InfoArgs& a) {
  const Dataset d = load_dataset(a.spec);
  std::vector<int32_t> deg = d.graph.in_degrees();
  std::sort(deg.begin(), deg.end());
  const int64_t n = d.num_nodes();
  const int64_t isolated = std::upper_bound(deg.begin(), deg.end(), 0) - deg.begin();
  const double mean = n > 0 ? static_cast<double>(d.graph.num_edges()) / static_cast<double>(n) : 0.0;
  const double density = n > 0 && d.num_features() > 0
                             ? d.features.ne(0).sum().item<double>() / static_cast<double>(n * d.num_features())
                             : 0.0;
  const at::Tensor labelled = d.labels.masked_select(d.labels.ge(0));
  const std::vector<int64_t> per_class = [&] {
    const at::Tensor c = at::bincount(labelled, {}, d.num_classes).contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }();
  const bool symmetric = d.graph.is_symmetric();
  const nlohmann::json j = {
      {"name", d.name},
      {"num_nodes", n},
      {"num_edges", d.graph.num_edges()},
      {"symmetric", symmetric},
      {"self_loops", d.graph.num_self_loops()},
      {"isolated_nodes", isolated},
      {"in_degree",
       {{"min", n ? deg.front() : 0}, {"median", n ? deg[n / 2] : 0}, {"mean", mean}, {"max", n ? deg.back() : 0}}},
      {"num_features", d.num_features()},
      {"feature_density", density},
      {"num_classes", d.num_classes},
      {"class_sizes", per_class},
      {"train", d.train_mask.sum().item<int64_t>()},
      {"val", d.val_mask.sum().item<int64_t>()},
      {"test", d.test_mask.sum().item<int64_t>()}};
  emit(a.json, j,
       fmt::format("{}\n  edges: {} directed{}, {} self-loops, {} isolated nodes\n"
                   "  in-degree: min {}, median {}, mean {:.2f}, max {}\n"
                   "  features: {} per node, {:.2f}% non-zero\n  class sizes: {}\n",
                   describe(d), d.graph.num_edges(),
                   symmetric ? fmt::format(" ({} undirected)", d.graph.num_edges() / 2) : "",
                   j["self_loops"].get<int64_t>(), isolated, j["in_degree"]["min"].get<int>(),
                   j["in_degree"]["median"].get<int>(), mean, j["in_degree"]["max"].get<int>(), d.num_features(),
                   100 * density, fmt::join(per_class, " ")));
}

void partition_info(const InfoArgs& a) {
  const PartitionMeta m = read_partition_meta(a.spec);
  emit(a.json, m.json,
       fmt::format("partition {} of {} ({} nodes, {} edges, hash {}) into {} parts by {} ({})\n{}", m.partition_id,
                   m.dataset, m.num_nodes, m.num_edges, m.dataset_hash, m.num_parts,
                   m.json["options"]["method"].get<std::string>(), m.json["options"]["objective"].get<std::string>(),
                   m.stats.report()));
}

}  // namespace

void add_info_command(CLI::App& app) {
  static InfoArgs args;
  CLI::App* cmd = app.add_subcommand("info", "Print sizes and statistics of a dataset or a partition directory");
  cmd->add_option("dataset", args.spec, "A dataset (path, preset or folder under $HALO_DATA) or a partition directory")
      ->required();
  cmd->add_flag("--json", args.json, "Print one JSON object");
  cmd->callback([] {
    if (std::filesystem::exists(std::filesystem::path(args.spec) / "meta.json")) {
      partition_info(args);
    } else {
      dataset_info(args);
    }
  });
}

}  // namespace halo::cli
