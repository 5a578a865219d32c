// I-GCN islandization benchmark: time and peak memory of the Islandizer and of the aggregation
// count (accel_model/) on generated graphs at each thread count, one table. The islands must not
// depend on the thread count; the last column says whether they matched the first count's.
//   build/bench/igcn_bench [--datasets reddit-sim,products-sim:scale=0.25] [--threads 1,2] [--reps 3]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <limits>
#include <optional>

#include "accel_model/accel_config.h"
#include "accel_model/islandizer.h"
#include "accel_model/window_cost.h"
#include "core/resources.h"
#include "core/threads.h"
#include "datasets/dataset_source.h"

int main(int argc, char** argv) {
  using namespace halo;
  CLI::App app("I-GCN islandization benchmark: time and peak memory per thread count, one table");
  // products-sim at a quarter (612k nodes, ~30 M edges) keeps a run within minutes on 2 cores.
  std::vector<std::string> specs{"reddit-sim", "products-sim:scale=0.25"};
  std::vector<int> threads{1, 2};
  int reps = 3;
  app.add_option("--datasets", specs, "Dataset specs (preset, path, or name under $HALO_DATA)")->delimiter(',');
  app.add_option("--threads", threads, "Thread counts")->delimiter(',');
  app.add_option("--reps", reps, "Runs per thread count; the table shows the fastest")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  const AccelConfig config = default_accel_config();
  fmt::print(
      "| dataset | nodes | edges | threads | islandize s | count s | peak MiB above graph | islands | mean island | "
      "hubs % | rounds | dropped tasks | re-reads / edge | pruned %, sums in combination / in aggregation | same "
      "islands |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string& spec : specs) {
    Dataset d = load_dataset(spec);
    d.features = at::Tensor();  // islandization reads the graph only
    const Graph& g = d.graph;
    std::optional<Islands> first;
    for (int t : threads) {
      const auto limit = use_threads(t);
      reset_peak_rss();
      const auto before = static_cast<double>(current_rss_bytes());
      double islandize_s = std::numeric_limits<double>::max(), count_s = islandize_s;
      Islands s;
      AggregationCount a;
      for (int r = 0; r < reps; ++r) {
        const Stopwatch clock;
        s = islandize(g, config.islandizer());
        islandize_s = std::min(islandize_s, clock.seconds());
        const Stopwatch count_clock;
        a = count_aggregation(g, s, config.window());
        count_s = std::min(count_s, count_clock.seconds());
      }
      if (!first) first = s;
      fmt::print(
          "| {} | {} | {} | {} | {:.2f} | {:.2f} | {:.0f} | {} | {:.2f} | {:.1f} | {} | {} | {:.2f} | {:.2f} / {:.2f} "
          "| {} "
          "|\n",
          spec, g.num_nodes(), g.num_edges(), t, islandize_s, count_s,
          (static_cast<double>(peak_rss_bytes()) - before) / (1 << 20), s.num_islands(),
          static_cast<double>(s.nodes.size()) / static_cast<double>(std::max<int64_t>(1, s.num_islands())),
          100.0 * static_cast<double>(s.hubs.size()) / g.num_nodes(), s.rounds, s.dropped_tasks,
          static_cast<double>(s.rereads) / static_cast<double>(g.num_edges()), 100 * a.pruned(),
          100 * a.pruned_with_sums(), s == *first ? "yes" : "NO");
      std::fflush(stdout);
    }
  }
  return 0;
}
