// Partition benchmark: time, peak memory and communication volume of METIS (volume and cut
// objectives) against the random baseline, for several part counts and datasets, one table.
//   build/bench/partition_bench [--datasets reddit-sim,pubmed] [--parts 2,4,8]
// Real datasets are found under $HALO_DATA (default: the checkout's ../shared/datasets).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>

#include "core/resources.h"
#include "datasets/dataset_source.h"
#include "partition/partition_dir.h"

int main(int argc, char** argv) {
  using namespace halo;
  CLI::App app("Partition benchmark: METIS-vol, METIS-cut and random, one table");
  std::vector<std::string> specs{"reddit-sim", "coauthor-cs", "pubmed"};
  std::vector<int32_t> parts{2, 4, 8};
  std::string scratch = (std::filesystem::temp_directory_path() / "halo-partition-bench").string();
  app.add_option("--datasets", specs, "Dataset specs (preset, path, or name under $HALO_DATA)")->delimiter(',');
  app.add_option("--parts", parts, "Part counts")->delimiter(',');
  app.add_option("--scratch", scratch, "Where the partition directories are written (removed afterwards)");
  CLI11_PARSE(app, argc, argv);
  setenv("HALO_DATA", HALO_DEFAULT_DATA, 0);

  fmt::print(
      "| dataset | K | method | partitioner s | total s (with shards) | peak RSS MiB | above dataset MiB | "
      "edge cut | comm volume | volume / METIS-vol | halo / nodes | node imbalance |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  struct Method {
    const char* name;
    PartitionMethod method;
    PartitionObjective objective;
  };
  const Method methods[] = {{"METIS-vol", PartitionMethod::metis, PartitionObjective::volume},
                            {"METIS-cut", PartitionMethod::metis, PartitionObjective::cut},
                            {"random", PartitionMethod::random, PartitionObjective::volume}};
  for (const std::string& spec : specs) {
    const Dataset d = load_dataset(spec);
    const double baseline = static_cast<double>(current_rss_bytes());
    for (int32_t k : parts) {
      int64_t metis_volume = 0;
      for (const Method& m : methods) {
        const std::string dir = fmt::format("{}/{}-{}", scratch, m.name, k);
        const PartitionStats s =
            write_partition(d, PartitionOptions().num_parts(k).method(m.method).objective(m.objective), dir, spec);
        std::filesystem::remove_all(dir);
        if (metis_volume == 0) metis_volume = s.comm_volume;
        fmt::print("| {} | {} | {} | {:.2f} | {:.2f} | {:.0f} | {:.0f} | {} | {} | {:.2f}x | {:.2f} | {:.3f} |\n", spec,
                   k, m.name, s.partition_seconds, s.total_seconds, static_cast<double>(s.peak_rss_bytes) / (1 << 20),
                   (static_cast<double>(s.peak_rss_bytes) - baseline) / (1 << 20), s.edge_cut, s.comm_volume,
                   static_cast<double>(s.comm_volume) / static_cast<double>(std::max<int64_t>(1, metis_volume)),
                   static_cast<double>(s.comm_volume) / static_cast<double>(d.num_nodes()), s.node_imbalance);
        std::fflush(stdout);
      }
    }
  }
  std::filesystem::remove_all(scratch);
  return 0;
}
