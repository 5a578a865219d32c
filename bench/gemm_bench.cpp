// GEMM benchmark: the dense products of Halo's layers through the path they take (core/gemm:
// oneDNN's sgemm or at::mm on whichever BLAS is loaded, by product), forward and both backward
// products, as JSON lines. bench/gemm_bench.sh runs it as Halo chooses, on each path alone
// (HALO_GEMM), with each OpenBLAS kernel set, and beside MKL, and prints the table.
//   build/bench/gemm_bench [--threads N] [--reps 5] [--keep-kernel]
// --keep-kernel runs the kernel set the environment gives (OPENBLAS_CORETYPE) instead of the one
// Halo would choose.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/blas_check.h"
#include "core/gemm.h"
#include "core/threads.h"

int main(int argc, char** argv) {
  bool keep_kernel = false;
  for (int i = 1; i < argc; ++i) keep_kernel = keep_kernel || std::string(argv[i]) == "--keep-kernel";
  if (!keep_kernel) halo::select_blas_kernel(argv);
  CLI::App app("GEMM at the layers' shapes, forward and backward");
  int threads = 0, reps = 5;
  app.add_option("--threads", threads, "Threads (default: all cores)");
  app.add_option("--reps", reps, "Timed repetitions; the best counts");
  app.add_flag("--keep-kernel", keep_kernel, "Run the kernel set the environment gives");
  CLI11_PARSE(app, argc, argv);
  const auto thread_limit = halo::use_threads(threads);
  const halo::BlasReport blas = halo::blas_report();
  struct Shape {
    int64_t rows, in, out;
  };
  // Community 200k x 128 -> 256; reddit-sim's SAGE input [x | mean x] of a 50k-node part,
  // 1204 -> 256; a 256 -> 41 classifier over 200k rows.
  for (const Shape s : {Shape{200000, 128, 256}, Shape{50000, 1204, 256}, Shape{200000, 256, 41}}) {
    const at::Tensor x = at::rand({s.rows, s.in}), w = at::rand({s.in, s.out}), dy = at::rand({s.rows, s.out});
    at::Tensor y = at::empty({s.rows, s.out}), dw = at::empty({s.in, s.out}), dx = at::empty({s.rows, s.in});
    const double flops = 2.0 * static_cast<double>(s.rows * s.in * s.out);
    // y = x W, dW = x^T dy, dx = dy W^T: what a Linear layer's forward and backward compute.
    struct Product {
      const char* name;
      at::Tensor out, a, b;
    };
    for (const auto& [name, out, a, b] : {Product{"forward x W", y, x, w}, Product{"backward x^T dy", dw, x.t(), dy},
                                          Product{"backward dy W^T", dx, dy, w.t()}}) {
      const auto product = [&, &out = out, &a = a, &b = b] { halo::gemm_out(out, a, b); };
      product();  // warm-up: pages touched, threads started
      double best = 1e300;
      for (int r = 0; r < reps; ++r) {
        const auto start = std::chrono::steady_clock::now();
        product();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      const nlohmann::json line = {
          {"shape", fmt::format("{} x {} x {}", s.rows, s.in, s.out)},
          {"product", name},
          {"gflops", flops / best / 1e9},
          {"kernel", blas.kernel},
          {"path", halo::gemm_path(a, b, out) == halo::GemmPath::onednn ? "oneDNN " + halo::onednn_info().isa : "BLAS"},
          {"chosen_by", blas.chosen_by},
          {"threads", at::get_num_threads()}};
      fmt::print("{}\n", line.dump());
      std::fflush(stdout);
    }
  }
  return 0;
}
