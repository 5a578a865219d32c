// SpMM benchmark: Halo's aggregation kernel against the memory bandwidth of this machine (a
// STREAM triad measured in the same run) and against LibTorch's own sparse x dense product,
// on a power-law community graph, one table.
//   build/bench/spmm_bench [--nodes 200000] [--degree 50] [--widths 16,128,256] [--reps 5]
// HALO_KERNEL_ISA=sse2|avx2|avx512 runs Halo's kernel of that instruction set (gcn/kernels/isa.h).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/threads.h"
#include "datasets/community_generator.h"
#include "gcn/kernels/isa.h"
#include "gcn/kernels/spmm.h"
#include "sampling/csr.h"

namespace {

// The 1-minute load average: other work on a shared machine skews every number below.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "unknown" : one;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Best wall time of `reps` runs (the least disturbed by other work on the machine).
double best_of(int reps, const std::function<void()>& fn) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, seconds_since(start));
  }
  return best;
}

// STREAM triad a[i] = b[i] + s * c[i] over three arrays of doubles far larger than the last
// cache level, in parallel with oneTBB; 24 bytes per element (two reads, one write; the
// write-allocate read is not counted, as in STREAM).
class Triad {
 public:
  explicit Triad(int64_t n) : a_(n), b_(n), c_(n) {
    // First touch by the threads (and static ranges) that run the triad.
    tbb::parallel_for(
        range(),
        [&](const tbb::blocked_range<int64_t>& r) {
          for (int64_t i = r.begin(); i != r.end(); ++i) a_[i] = 0, b_[i] = 1, c_[i] = 2;
        },
        tbb::static_partitioner());
  }
  void run() {
    tbb::parallel_for(
        range(),
        [&](const tbb::blocked_range<int64_t>& r) {
          for (int64_t i = r.begin(); i != r.end(); ++i) a_[i] = b_[i] + 3.0 * c_[i];
        },
        tbb::static_partitioner());
  }

 private:
  tbb::blocked_range<int64_t> range() const {
    return tbb::blocked_range<int64_t>(0, static_cast<int64_t>(a_.size()), 1 << 16);
  }
  std::vector<double> a_, b_, c_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace halo;
  CLI::App app("SpMM benchmark: Halo's kernel vs STREAM triad vs LibTorch sparse, one table");
  int64_t nodes = 200000;
  double degree = 50;
  std::vector<int64_t> widths{16, 128, 256};
  int reps = 5;
  int64_t triad_elements = int64_t{1} << 25;
  app.add_option("--nodes", nodes, "Nodes of the generated graph");
  app.add_option("--degree", degree, "Average degree");
  app.add_option("--widths", widths, "Feature widths")->delimiter(',');
  app.add_option("--reps", reps, "Runs per measurement (best is reported)");
  app.add_option("--triad-elements", triad_elements, "Elements per triad array (3 arrays of doubles)");
  CLI11_PARSE(app, argc, argv);

  auto start = std::chrono::steady_clock::now();
  const Dataset d = generate_community(
      CommunityOptions().num_nodes(nodes).average_degree(degree).degree_exponent(2.5).num_features(16).seed(1));
  const Graph& g = d.graph;
  Csr a;
  a.cols = g.num_nodes();
  a.offsets = g.offsets();
  a.indices = g.indices();
  const int64_t n = a.rows(), nnz = a.nnz();
  int64_t max_row = 0;
  for (int64_t v = 0; v < n; ++v) max_row = std::max(max_row, a.offsets[v + 1] - a.offsets[v]);
  fmt::print("graph: community, {} nodes, {} entries (avg {:.1f}, max row {}), generated in {:.1f} s\n", n, nnz,
             static_cast<double>(nnz) / static_cast<double>(n), max_row, seconds_since(start));
  const auto thread_limit = use_threads(0);  // the same threads for both
  fmt::print("threads: oneTBB {}, LibTorch {}; load average at start {}\n", tbb::this_task_arena::max_concurrency(),
             at::get_num_threads(), load_average());
  fmt::print("Halo's kernel: the {} copy (this CPU runs up to {})\n", kernels::isa_name(kernels::kernel_isa()),
             kernels::isa_name(kernels::cpu_isa()));

  // GCN's symmetric normalisation, y = D^-1/2 A D^-1/2 x: Halo takes r and c; LibTorch gets the
  // same numbers as entry values r[v] * c[u].
  std::vector<float> scale(n);
  for (int64_t v = 0; v < n; ++v) scale[v] = 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(1, g.in_degree(v))));
  std::vector<int64_t> rows(nnz), cols(nnz);
  std::vector<float> values(nnz);
  for (int64_t v = 0; v < n; ++v) {
    for (int64_t k = a.offsets[v]; k < a.offsets[v + 1]; ++k) {
      rows[k] = v;
      cols[k] = a.indices[k];
      values[k] = scale[v] * scale[a.indices[k]];
    }
  }
  const at::Tensor row_t = at::tensor(rows, at::kLong), col_t = at::tensor(cols, at::kLong);
  const at::Tensor value_t = at::tensor(values, at::kFloat);
  const at::Tensor crow_t = at::tensor(a.offsets, at::kLong);
  const at::Tensor coo = at::sparse_coo_tensor(at::stack({row_t, col_t}), value_t, {n, n}).coalesce();
  const at::Tensor csr = at::sparse_csr_tensor(crow_t, col_t, value_t, {n, n}, at::TensorOptions(at::kFloat));

  fmt::print(
      "Bytes that must move per SpMM: offsets 8(n+1) + indices 4 nnz + x rows gathered once per entry 4 F nnz + y "
      "written once 4 F n\n(the scales r, c and LibTorch's values are not counted); GB/s = those bytes / time.\n"
      "Triad: a[i] = b[i] + s c[i], 3 x {} MiB of doubles, 24 bytes per element, oneTBB. The machine is shared, so\n"
      "triad and Halo run interleaved, {} rounds, best of each (LibTorch: best of {}).\n"
      "Halo r,c: y = D^-1/2 A D^-1/2 x (GCN); Halo plain: y = A x (no scales).\n\n",
      triad_elements * 8 >> 20, reps, std::min(reps, 3));
  fmt::print(
      "| F | MB moved | triad GB/s | Halo r,c ms | GB/s | / triad | Halo plain ms | GB/s | / triad | LibTorch COO ms | "
      "LibTorch CSR ms | Halo r,c speedup over best LibTorch | max abs diff |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  Triad triad(triad_elements);
  for (int64_t F : widths) {
    const at::Tensor x = at::rand({n, F}, at::kFloat);
    at::Tensor y = at::empty({n, F}, at::kFloat), y_plain = at::empty({n, F}, at::kFloat);
    kernels::SpmmArgs<float> args;
    args.a = a.view();
    args.width = F;
    args.x = x.data_ptr<float>();
    args.row_scale = scale.data();
    args.col_scale = scale.data();
    args.y = y.data_ptr<float>();
    kernels::SpmmArgs<float> plain = args;
    plain.row_scale = plain.col_scale = nullptr;
    plain.y = y_plain.data_ptr<float>();
    const double bytes = 8.0 * static_cast<double>(n + 1) + 4.0 * static_cast<double>(nnz) +
                         4.0 * static_cast<double>(F) * static_cast<double>(nnz + n);

    // LibTorch: COO (its sparse x dense addmm) and CSR (its native CSR x dense kernel); either
    // may be missing from a build, then reported as n/a.
    at::Tensor coo_result, csr_result;
    const auto torch_mm = [&](const at::Tensor& sparse, at::Tensor& result) {
      try {
        result = at::mm(sparse, x);
        return true;
      } catch (const std::exception&) {
        return false;
      }
    };
    const bool coo_ok = torch_mm(coo, coo_result), csr_ok = torch_mm(csr, csr_result);
    kernels::spmm(args);  // warm: pages touched, caches in their working state
    double t_triad = 1e300, t_halo = 1e300, t_plain = 1e300, t_coo = 1e300, t_csr = 1e300;
    for (int round = 0; round < reps; ++round) {
      t_triad = std::min(t_triad, best_of(1, [&] { triad.run(); }));
      t_halo = std::min(t_halo, best_of(1, [&] { kernels::spmm(args); }));
      t_plain = std::min(t_plain, best_of(1, [&] { kernels::spmm(plain); }));
      if (round < 3 && coo_ok) t_coo = std::min(t_coo, best_of(1, [&] { at::mm(coo, x); }));
      if (round < 3 && csr_ok) t_csr = std::min(t_csr, best_of(1, [&] { at::mm(csr, x); }));
    }
    const double bw_triad = 24.0 * static_cast<double>(triad_elements) / t_triad;
    const double torch_best = std::min(t_coo, t_csr);
    const at::Tensor& check = coo_ok ? coo_result : csr_result;
    const double diff = check.defined() ? (check.to_dense() - y).abs().max().item<double>() : -1;
    const auto ms = [](bool ok, double t) { return ok ? fmt::format("{:.1f}", t * 1e3) : std::string("n/a"); };
    fmt::print(
        "| {} | {:.0f} | {:.1f} | {:.1f} | {:.1f} | {:.0f}% | {:.1f} | {:.1f} | {:.0f}% | {} | {} | {:.1f}x ({}) | "
        "{:.1e} |\n",
        F, bytes / 1e6, bw_triad / 1e9, t_halo * 1e3, bytes / t_halo / 1e9, 100 * bytes / t_halo / bw_triad,
        t_plain * 1e3, bytes / t_plain / 1e9, 100 * bytes / t_plain / bw_triad, ms(coo_ok, t_coo), ms(csr_ok, t_csr),
        torch_best / t_halo, t_csr < t_coo ? "CSR" : "COO", diff);
    std::fflush(stdout);
  }
  fmt::print("\nload average at end {}\n", load_average());
  fmt::print("Targets: Halo / triad >= 60%, Halo speedup over the best LibTorch sparse product >= 2x.\n");
  return 0;
}
