// Distributed training benchmark: GCN and GraphSAGE (hidden 256, 2 and 3 layers) on a
// Reddit-like generated graph, on K = 1, 2, 4 ranks of one machine, with the full halo or
// BNS-GCN boundary rates. Partitions once per K with `halo partition`, trains with
// `mpirun -np K halo train --parts`, and reads rank 0's metrics (spread over ranks) into one
// table: epoch time, its compute / exchange / allreduce parts, halo rows and bytes sent per
// epoch, peak RSS per rank, and the test accuracy after the last epoch.
//   build/bench/distributed_bench [--dataset reddit-sim:nodes=100000] [--ranks 1,2,4] [--epochs 4]
//   build/bench/distributed_bench --models sage --layers 3 --ranks 2,4 --rates 1,0.5,0.1,0.01,0 --epochs 30
// Issue 15's 4-rank workload (SAGE 3x256 + LayerNorm, 1 thread a rank; full halo, p = 0.1, pipelined):
//   build/bench/distributed_bench --dataset reddit-sim:nodes=50000 --models sage --layers 3 --ranks 4 \
//     --threads 1 --rates 1,0.1 --pipeline --train-options "--layer-norm --dropout 0.5" --epochs 8
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

void run(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw Error("failed: " + command);
}

// Means over the timed epochs: the first (warm-up) and the last (it evaluates) are left out.
struct Row {
  double epoch = 0, compute = 0, compute_mean = 0, exchange = 0, exchange_mean = 0, allreduce = 0, sample = 0;
  double halo_rows = 0, bytes = 0, rss = 0, test_acc = 0;
};

Row read_metrics(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  if (lines.size() < 3) throw Error(path + ": fewer than 3 epochs");
  Row r;
  const double n = static_cast<double>(lines.size() - 2);
  for (size_t e = 1; e + 1 < lines.size(); ++e) {
    const nlohmann::json& m = lines[e];
    const int ranks = m["ranks"].get<int>();
    r.epoch += m["epoch_seconds"].get<double>() / n;
    r.compute += m["compute_seconds"].get<double>() / n;
    r.compute_mean += m["compute_seconds_mean"].get<double>() / n;
    r.exchange += m["exchange_seconds"].get<double>() / n;
    r.exchange_mean += m["exchange_seconds_mean"].get<double>() / n;
    r.allreduce += m["allreduce_seconds"].get<double>() / n;
    r.sample += m["sample_seconds"].get<double>() / n;
    r.halo_rows += m["halo_rows_mean"].get<double>() / n;
    r.bytes += m["bytes_sent_mean"].get<double>() * ranks / n;
  }
  r.rss = lines.back()["peak_rss_bytes"].get<double>();
  r.test_acc = lines.back()["test_acc"].get<double>();
  return r;
}

}  // namespace
}  // namespace halo

int main(int argc, char** argv) {
  using namespace halo;
  CLI::App app("Distributed training: epoch time and its parts on K ranks of this machine");
  std::string dataset = "reddit-sim:nodes=100000", mpirun = HALO_MPIEXEC;
  std::vector<int> ranks = {1, 2, 4}, layer_counts = {2, 3};
  std::vector<std::string> models = {"gcn", "sage"};
  std::vector<double> rates;
  int epochs = 4, threads = 0;
  bool pipeline = false;
  std::string train_options;
  app.add_option("--dataset", dataset, "Dataset spec (preset with overrides, or a path)");
  app.add_option("--ranks", ranks, "Rank counts")->delimiter(',');
  app.add_option("--models", models, "Models")->delimiter(',');
  app.add_option("--layers", layer_counts, "Layer counts")->delimiter(',');
  app.add_option("--rates", rates, "BNS-GCN boundary rates (default: the full halo, no sampler)")->delimiter(',');
  app.add_option("--epochs", epochs, "Epochs per run (the first and last are not timed)")->check(CLI::Range(3, 1000));
  app.add_option("--mpirun", mpirun, "mpirun to use");
  app.add_option("--threads", threads, "Threads per rank (0: Halo's default)")->check(CLI::Range(0, 1024));
  app.add_flag("--pipeline", pipeline, "Also a pipelined (PipeGCN) row after each rate's");
  app.add_option("--train-options", train_options, "More halo train options for every run, e.g. \"--layer-norm\"");
  CLI11_PARSE(app, argc, argv);

  try {
    const fs::path work = fs::temp_directory_path() / fmt::format("halo-distributed-bench-{}", std::random_device()());
    fs::create_directories(work);
    const std::string halo = HALO_BIN;
    const std::string launch = mpirun + " --oversubscribe --bind-to none";
    fmt::print(
        "| model | layers | ranks | p | epoch s | compute s (max / mean) | exchange s (max / mean) | allreduce s "
        "| sample s | halo rows / rank | MB sent / epoch | peak RSS / rank MiB | test acc |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    // Each row's extra flags and its label in the p column.
    std::vector<std::pair<std::string, std::string>> variants;
    for (double p : rates) variants.push_back({fmt::format("--boundary-rate {}", p), fmt::format("{}", p)});
    if (variants.empty()) variants.push_back({"", "full"});
    if (pipeline) {
      for (size_t i = 0, n = variants.size(); i < n; ++i) {
        variants.push_back({variants[i].first + " --pipeline", variants[i].second + " pipelined"});
      }
    }
    const std::string thread_flag = threads > 0 ? fmt::format("--threads {}", threads) : "";
    for (int k : ranks) {
      const std::string parts = (work / fmt::format("parts-{}", k)).string();
      run(fmt::format("{} --log-level warn partition '{}' --parts {} -o {} > /dev/null", halo, dataset, k, parts));
      for (const std::string& model : models) {
        for (int layers : layer_counts) {
          for (const auto& [flags, label] : variants) {
            const std::string metrics = (work / "metrics.jsonl").string();
            run(fmt::format("{} -np {} {} {} --log-level warn train --parts {} --model {} --layers {} --hidden 256 "
                            "--epochs {} --eval-every 1000000 {} {} --metrics {} > /dev/null",
                            launch, k, halo, thread_flag, parts, model, layers, epochs, flags, train_options,
                            metrics));
            const Row r = read_metrics(metrics);
            fs::remove(metrics);
            fmt::print(
                "| {} | {} | {} | {} | {:.3f} | {:.3f} / {:.3f} | {:.3f} / {:.3f} | {:.3f} | {:.3f} | {:.0f} | {:.1f} "
                "| {:.0f} | {:.3f} |\n",
                model, layers, k, label, r.epoch, r.compute, r.compute_mean,
                r.exchange, r.exchange_mean, r.allreduce, r.sample, r.halo_rows, r.bytes / 1e6, r.rss / (1 << 20),
                r.test_acc);
          }
        }
      }
      fs::remove_all(parts);
    }
    fs::remove_all(work);
  } catch (const std::exception& e) {
    fmt::print(stderr, "distributed_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
