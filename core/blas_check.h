#pragma once
// Which BLAS runs LibTorch's dense products (and those of Halo's that core/gemm.h leaves to it),
// with which kernels, how fast, and whether it computes right. Debian's LibTorch calls
// whichever libblas.so.3 the alternatives system selects: the reference BLAS is 20-30x slower
// than OpenBLAS, and OpenBLAS 0.3.21 runs its slowest (Prescott) kernels on CPU models newer
// than itself (3.3x slower GEMM on AVX-512 Xeons). OpenBLAS reads its kernel choice
// (OPENBLAS_CORETYPE) only as it loads, so a program that wants another one starts itself
// again with it set: select_blas_kernel().
#include <ATen/Tensor.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace halo {

// Resolved path of the libblas.so.3 mapped into this process ("" if none is).
std::string loaded_blas();

// The kernel set OpenBLAS runs ("Haswell", "SkylakeX", ...), or "" when the BLAS is not OpenBLAS.
std::string openblas_kernel();

// The widest OpenBLAS kernel set this CPU's instructions allow ("SkylakeX" with AVX-512, "Zen" or
// "Haswell" with AVX2 and FMA, "Sandybridge" with AVX, else "Prescott").
std::string widest_kernel_for_this_cpu();

// First thing in main(): when OpenBLAS picked kernels narrower than the CPU runs (it does not know
// the CPU model, or OPENBLAS_CORETYPE asks for more than the CPU has), executes this program
// again with OPENBLAS_CORETYPE set to the widest kernel. In the process that runs it, checks the
// kernel against a double-precision reference and, if it computes wrong results, starts once
// more with OpenBLAS's own choice. A kernel the user set in OPENBLAS_CORETYPE and the CPU can
// run is kept. Returns only when this process keeps its BLAS; throws Error when even OpenBLAS's
// own choice computes wrong results.
void select_blas_kernel(char** argv);

// A product into out [m, n] of a [m, k] and b [k, n]; empty: at::mm_out, the BLAS.
using GemmProduct = std::function<void(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b)>;

// Whether C = A B, A^T B and A B^T through `product` match a double-precision product for float32
// [m, k] x [k, n]: every element within 1e-5 of the sum of absolute products (rounding of a
// k-term float sum). Rows are spot-checked past 64.
bool gemm_matches_reference(int64_t m, int64_t k, int64_t n, const GemmProduct& product = {});

// The check a GEMM path passes before Halo runs on it: 1 x 1 x 1, 7 x 257 x 33, 257 x 33 x 7 and
// 300 x 520 x 260.
bool gemm_passes_check(const GemmProduct& product = {});

// float32 GEMM GFLOP/s of `product`, 512 x 512 x 512, best of three.
double gemm_gflops(const GemmProduct& product = {});

struct BlasReport {
  std::string library;    // resolved path of the loaded BLAS
  std::string kernel;     // OpenBLAS's kernel set, "" for another BLAS
  std::string chosen_by;  // "OpenBLAS", "Halo" (from the CPU's features) or "OPENBLAS_CORETYPE"
  std::string widest;     // widest_kernel_for_this_cpu()
  int threads = 1;        // LibTorch's intra-op threads when measured
  double gflops = 0;      // float32 GEMM, 512 x 512 x 512, best of three
  // Halo's own products (core/gemm.h): HALO_GEMM's choice, and oneDNN's sgemm when it runs them.
  std::string gemm = "automatic";
  std::string onednn_version, onednn_isa;  // empty without oneDNN
  double onednn_gflops = 0;
  nlohmann::json to_json() const;
  std::string text() const;  // one line for the log
};

// Measures and describes the BLAS of this process (about 10 ms with an optimised BLAS).
BlasReport blas_report();

// Logs the report (info) and a warning when the reference BLAS is loaded or the kernel is
// narrower than the CPU runs.
void log_blas_report(const BlasReport& report);

}  // namespace halo
