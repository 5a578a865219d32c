// Partition benchmark: time, peak memory and communication volume of METIS (volume and cut
// objectives) against the random baseline, for several part counts, on one dataset.
//   build/bench/partition_bench [--dataset reddit-sim] [--parts 2,4,8]
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/resources.h"
#include "datasets/dataset_source.h"
#include "partition/partition_dir.h"

int main(int argc, char** argv) {
  using namespace halo;
  CLI::App app("Partition benchmark: METIS-vol, METIS-cut and random, one table");
  std::string spec = "reddit-sim";
  std::vector<int32_t> parts{2, 4, 8};
  std::string scratch = (std::filesystem::temp_directory_path() / "halo-partition-bench").string();
  app.add_option("--dataset", spec, "Dataset spec (preset, path, or name under $HALO_DATA)");
  app.add_option("--parts", parts, "Part counts")->delimiter(',');
  app.add_option("--scratch", scratch, "Where the partition directories are written (removed afterwards)");
  CLI11_PARSE(app, argc, argv);

  Stopwatch load_clock;
  const Dataset d = load_dataset(spec);
  const double baseline = static_cast<double>(current_rss_bytes());
  fmt::print("{} (loaded in {:.1f} s, {:.0f} MiB resident)\n\n", describe(d), load_clock.seconds(), baseline / (1 << 20));
  fmt::print("| K | method | partitioner s | total s (with shards) | peak RSS MiB | above dataset MiB | edge cut | "
             "comm volume | vs METIS-vol | node imbalance |\n|---|---|---|---|---|---|---|---|---|---|\n");
  struct Method {
    const char* name;
    PartitionMethod method;
    PartitionObjective objective;
  };
  const Method methods[] = {{"METIS-vol", PartitionMethod::metis, PartitionObjective::volume},
                            {"METIS-cut", PartitionMethod::metis, PartitionObjective::cut},
                            {"random", PartitionMethod::random, PartitionObjective::volume}};
  for (int32_t k : parts) {
    int64_t metis_volume = 0;
    for (const Method& m : methods) {
      const std::string dir = fmt::format("{}/{}-{}", scratch, m.name, k);
      const PartitionStats s =
          write_partition(d, PartitionOptions().num_parts(k).method(m.method).objective(m.objective), dir, spec);
      std::filesystem::remove_all(dir);
      if (metis_volume == 0) metis_volume = s.comm_volume;
      fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.0f} | {:.0f} | {} | {} | {:.2f}x | {:.3f} |\n", k, m.name,
                 s.partition_seconds, s.total_seconds, static_cast<double>(s.peak_rss_bytes) / (1 << 20),
                 (static_cast<double>(s.peak_rss_bytes) - baseline) / (1 << 20), s.edge_cut, s.comm_volume,
                 static_cast<double>(s.comm_volume) / static_cast<double>(std::max<int64_t>(1, metis_volume)),
                 s.node_imbalance);
      std::fflush(stdout);
    }
  }
  std::filesystem::remove_all(scratch);
  return 0;
}
