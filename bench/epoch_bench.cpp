// Full-epoch benchmark (forward + backward + Adam): Halo's GCN and GraphSAGE against the same
// models written straightforwardly with LibTorch sparse tensors, on one generated graph, in one
// run. Prints one table with epoch times, the speed-up, and each run's peak RSS.
//   build/bench/epoch_bench [--nodes 200000] [--degree 50] [--features 128] [--hidden 256] [--epochs 5]
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/init.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>

#include "core/blas_check.h"
#include "core/resources.h"
#include "core/threads.h"
#include "datasets/community_generator.h"
#include "train/trainer.h"

namespace halo {
namespace {

struct Timing {
  double median_seconds = 0;
  int64_t peak_rss_bytes = 0;
};

// Median epoch time after one warm-up epoch, and the peak RSS the runs reached.
Timing time_epochs(int epochs, const std::function<void()>& epoch) {
  reset_peak_rss();
  epoch();
  std::vector<double> times;
  for (int e = 0; e < epochs; ++e) {
    Stopwatch clock;
    epoch();
    times.push_back(clock.seconds());
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], peak_rss_bytes()};
}

// The baseline: the model as one would write it with LibTorch alone. The normalised adjacency
// is a sparse COO tensor; torch::mm(sparse, dense) aggregates and autograd differentiates it.
class SparseBaseline {
 public:
  SparseBaseline(const Dataset& d, const std::string& kind, int64_t hidden) : kind_(kind) {
    const Graph& g = d.graph;
    const int64_t n = g.num_nodes();
    const bool gcn = kind == "gcn";
    std::vector<int64_t> rows, cols;
    std::vector<float> values;
    const std::vector<int32_t> deg = g.in_degrees();
    for (int32_t v = 0; v < n; ++v) {
      auto add = [&](int32_t u) {
        rows.push_back(v);
        cols.push_back(u);
        values.push_back(gcn ? 1.0f / std::sqrt(float(deg[v] + 1) * float(deg[u] + 1))
                             : 1.0f / static_cast<float>(std::max(deg[v], 1)));
      };
      for (int32_t u : g.in_neighbors(v)) add(u);
      if (gcn) add(v);
    }
    at::Tensor index = at::stack({at::tensor(rows), at::tensor(cols)});
    adjacency_ = at::sparse_coo_tensor(index, at::tensor(values), {n, n}).coalesce();
    x_ = d.features;
    labels_ = d.labels;
    train_ = d.train_mask.nonzero().flatten();
    const int64_t f = d.num_features(), c = d.num_classes;
    auto param = [&](int64_t a, int64_t b) {
      params_.push_back(torch::nn::init::xavier_uniform_(torch::empty({a, b})).requires_grad_());
      return params_.back();
    };
    w1_ = param(f, hidden);
    w2_ = param(hidden, c);
    if (!gcn) {
      r1_ = param(f, hidden);
      r2_ = param(hidden, c);
    }
    optimizer_ = std::make_unique<torch::optim::Adam>(params_, torch::optim::AdamOptions(0.01));
  }

  void epoch() {
    auto layer = [&](const at::Tensor& h, const at::Tensor& w, const at::Tensor& root) {
      // Aggregate at the narrower width, as Halo does.
      const at::Tensor agg = w.size(1) < w.size(0) ? at::mm(adjacency_, h.mm(w)) : at::mm(adjacency_, h).mm(w);
      return root.defined() ? agg + h.mm(root) : agg;
    };
    at::Tensor h = at::dropout(x_, 0.5, true);
    h = at::relu(layer(h, w1_, r1_));
    h = at::dropout(h, 0.5, true);
    const at::Tensor logits = layer(h, w2_, r2_);
    const at::Tensor loss = at::cross_entropy_loss(logits.index_select(0, train_), labels_.index_select(0, train_));
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
  }

 private:
  std::string kind_;
  at::Tensor adjacency_, x_, labels_, train_, w1_, w2_, r1_, r2_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

}  // namespace
}  // namespace halo

int main(int argc, char** argv) {
  using namespace halo;
  select_blas_kernel(argv);
  CLI::App app("Full-epoch benchmark: Halo vs LibTorch sparse");
  int64_t nodes = 200000, features = 128, hidden = 256;
  double degree = 50;
  int epochs = 5, threads = 0;
  app.add_option("--nodes", nodes);
  app.add_option("--degree", degree);
  app.add_option("--features", features);
  app.add_option("--hidden", hidden);
  app.add_option("--epochs", epochs, "Timed epochs per run (after one warm-up)");
  app.add_option("--threads", threads, "Threads for both (default: all cores)");
  CLI11_PARSE(app, argc, argv);
  const auto thread_limit = use_threads(threads);
  const BlasReport blas = blas_report();

  const Dataset d = generate_community(CommunityOptions()
                                           .name("bench")
                                           .num_nodes(nodes)
                                           .average_degree(degree)
                                           .degree_exponent(2.5)
                                           .num_features(features)
                                           .num_classes(41));
  fmt::print("{} | {} threads | {}\n\n", describe(d), at::get_num_threads(), blas.text());
  fmt::print(
      "| model | Halo s/epoch | LibTorch sparse s/epoch | speed-up | Halo peak RSS MiB | LibTorch peak RSS MiB |\n"
      "|---|---|---|---|---|---|\n");
  for (const std::string kind : {"gcn", "sage"}) {
    // Each run in its own scope, so the other's memory is gone before its peak is measured.
    const Timing halo = [&] {
      torch::manual_seed(0);
      Model model(ModelOptions().kind(kind).hidden(hidden).in_features(features).out_features(d.num_classes));
      Trainer trainer(d, model, TrainerOptions().epochs(1 << 30).eval_every(1 << 30).weight_decay(0).progress(false));
      return time_epochs(epochs, [&] { trainer.step(); });
    }();
    const Timing torch_sparse = [&] {
      torch::manual_seed(0);
      SparseBaseline baseline(d, kind, hidden);
      return time_epochs(epochs, [&] { baseline.epoch(); });
    }();
    fmt::print("| {} 2x{} | {:.3f} | {:.3f} | {:.2f}x | {:.0f} | {:.0f} |\n", kind, hidden, halo.median_seconds,
               torch_sparse.median_seconds, torch_sparse.median_seconds / halo.median_seconds,
               static_cast<double>(halo.peak_rss_bytes) / (1 << 20),
               static_cast<double>(torch_sparse.peak_rss_bytes) / (1 << 20));
    std::fflush(stdout);
  }
  return 0;
}
