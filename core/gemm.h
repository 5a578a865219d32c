#pragma once
// Halo's dense products: a layer's x W and its backward x^T dy and dy W^T. Each runs on oneDNN's
// sgemm or on LibTorch's at::mm (the libblas.so.3 blas_check selects), by its form. x W and
// dy W^T run on oneDNN, 1.1-2.4x faster than OpenBLAS 0.3.21 at the layers' shapes
// (bench/gemm_bench.sh on Zen 3; OpenBLAS is slowest with a 41-class output), with each row's
// result independent of the rows around it (gemm.cpp: run_sgemm), so K ranks compute their
// rows as one process does. x^T dy stays on the BLAS: oneDNN is no faster there on wide shapes,
// and with it on oneDNN a 2-rank GAT run drifted 2e-5 from one process within 17 epochs (3e-7
// on the BLAS), past DESIGN rule 2's equivalence test. oneDNN comes with Debian's LibTorch
// (libdnnl.so.2): Halo finds it in the process at run time and checks it against a
// double-precision reference before its first product; without it, or for anything but
// float32 on the CPU, every product is at::mm's. Row independence was measured on oneDNN's avx2
// kernels only: with other kernels the automatic choice leaves every product to the BLAS.
// HALO_GEMM=blas|onednn forces one path for all three.
#include <ATen/Tensor.h>

#include <string>

namespace halo {

enum class GemmChoice { automatic, blas, onednn };
enum class GemmPath { blas, onednn };

// Where products go: HALO_GEMM, or automatic. set_gemm_choice overrides it (tests, benchmarks);
// onednn is refused (Error) when oneDNN is not usable here.
GemmChoice gemm_choice();
void set_gemm_choice(GemmChoice choice);
const char* gemm_choice_name(GemmChoice choice);

// Whether the automatic choice runs products on oneDNN here (its sgemm found, checked, and
// running the kernels whose row independence was measured: avx2).
bool onednn_automatic();

// The path out = a b takes, a [m, k] and b [k, n] (either possibly a transposed view).
GemmPath gemm_path(const at::Tensor& a, const at::Tensor& b, const at::Tensor& out);

// out = a b and out += a b, out [m, n] written in place.
void gemm_out(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b);
void gemm_accumulate(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b);

// oneDNN's version and the instruction set its kernels use ("2.6.3", "avx2"); empty when its
// sgemm is not in this process or computed wrong results.
struct OneDnnInfo {
  std::string version, isa;
};
const OneDnnInfo& onednn_info();

}  // namespace halo
