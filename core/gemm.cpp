#include "core/gemm.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>

#include "core/blas_check.h"
#include "core/error.h"

#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#define HALO_ONEDNN_HEADERS 1
#endif

namespace halo {
namespace {

#ifdef HALO_ONEDNN_HEADERS
// Looked up, not linked: the symbols are in the process exactly when LibTorch brought oneDNN.
using Sgemm = decltype(&dnnl_sgemm);
template <class F>
F find(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}
#else
using Sgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                      float*, int64_t);
#endif

// How a row-major library sees a 2-D tensor: itself ('N') or the transpose of a row-major
// matrix ('T'), with that matrix's row stride. Strides of size-1 dimensions do not matter.
struct Layout {
  char trans;
  int64_t ld;
};
std::optional<Layout> layout(const at::Tensor& x) {
  const int64_t rows = x.size(0), cols = x.size(1);
  const int64_t row_stride = rows == 1 ? std::max<int64_t>(cols, 1) : x.stride(0);
  const int64_t col_stride = cols == 1 ? std::max<int64_t>(rows, 1) : x.stride(1);
  if ((cols == 1 || x.stride(1) == 1) && row_stride >= std::max<int64_t>(cols, 1)) return Layout{'N', row_stride};
  if ((rows == 1 || x.stride(0) == 1) && col_stride >= std::max<int64_t>(rows, 1)) return Layout{'T', col_stride};
  return std::nullopt;
}

int call(Sgemm sgemm, const Layout& la, const Layout& lb, int64_t m, int64_t n, int64_t k, const float* a,
         const float* b, float beta, float* c, int64_t ldc) {
  return sgemm(la.trans, lb.trans, m, n, k, 1.0f, a, la.ld, b, lb.ld, beta, c, ldc);
}

// out (+)= a b through a row-major sgemm; false when a tensor's layout is not one it takes.
// When a's rows are out's rows, oneDNN gives a row the same bits wherever it sits only in calls
// whose row count is a multiple of 48 per thread (its kernels' row unroll, 16, 24 or 48, and its
// split among threads; measured): the rows past the last such multiple go through a zero-padded
// scratch of that size. A row's result then depends on that row alone, so K ranks compute
// their rows exactly as one process does (DESIGN rule 2).
bool run_sgemm(Sgemm sgemm, const at::Tensor& out, const at::Tensor& a, const at::Tensor& b, float beta) {
  const auto la = layout(a), lb = layout(b), lc = layout(out);
  if (!la || !lb || !lc || lc->trans != 'N') return false;
  const int64_t m = out.size(0), n = out.size(1), k = a.size(1);
  if (m == 0 || n == 0) return true;
  if (k == 0) {  // a sum of nothing; not every sgemm takes k = 0
    if (beta == 0) out.zero_();
    return true;
  }
  const int64_t unit = la->trans == 'N' ? 48 * std::max(1, at::get_num_threads()) : 1;
  const int64_t whole = m / unit * unit, rest = m - whole;
  int status = 0;
  if (whole > 0) {
    status = call(sgemm, *la, *lb, whole, n, k, a.data_ptr<float>(), b.data_ptr<float>(), beta, out.data_ptr<float>(),
                  lc->ld);
  }
  if (status == 0 && rest > 0) {
    const at::Tensor a_rest = at::zeros({unit, k}, a.options()), out_rest = at::empty({unit, n}, out.options());
    a_rest.narrow(0, 0, rest).copy_(a.narrow(0, whole, rest));
    if (beta != 0) out_rest.narrow(0, 0, rest).copy_(out.narrow(0, whole, rest));
    status = call(sgemm, Layout{'N', k}, *lb, unit, n, k, a_rest.data_ptr<float>(), b.data_ptr<float>(), beta,
                  out_rest.data_ptr<float>(), n);
    out.narrow(0, whole, rest).copy_(out_rest.narrow(0, 0, rest));
  }
  if (status != 0) {
    throw Error(fmt::format("oneDNN's sgemm failed (status {}) on a [{}, {}] x [{}, {}] product", status, m, k, k, n));
  }
  return true;
}

struct OneDnn {
  Sgemm sgemm = nullptr;
  OneDnnInfo info;
};

// oneDNN's sgemm if this process has it and it passes blas_check's reference check.
const OneDnn& onednn() {
  static const OneDnn found = [] {
    OneDnn d;
#ifdef HALO_ONEDNN_HEADERS
    const auto sgemm = find<Sgemm>("dnnl_sgemm");
    const auto version = find<decltype(&dnnl_version)>("dnnl_version");
    const auto isa = find<decltype(&dnnl_get_effective_cpu_isa)>("dnnl_get_effective_cpu_isa");
    const auto isa_name = find<decltype(&dnnl_cpu_isa2str)>("dnnl_cpu_isa2str");
    if (sgemm == nullptr || version == nullptr || isa == nullptr || isa_name == nullptr) return d;
    const auto product = [sgemm](const at::Tensor& out, const at::Tensor& a, const at::Tensor& b) {
      run_sgemm(sgemm, out, a, b, 0.0f);
    };
    const dnnl_version_t* v = version();
    const std::string name = fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
    if (!gemm_passes_check(product)) {
      spdlog::warn("oneDNN {}'s sgemm computes wrong float32 products on this CPU; Halo's products use the BLAS", name);
      return d;
    }
    d.sgemm = sgemm;
    std::string isa_text = isa_name(isa());  // "cpu_isa_avx2"
    if (isa_text.rfind("cpu_isa_", 0) == 0) isa_text.erase(0, 8);
    d.info = {name, isa_text};
#endif
    return d;
  }();
  return found;
}

GemmChoice from_environment() {
  const char* env = std::getenv("HALO_GEMM");
  if (env == nullptr || *env == '\0' || std::string(env) == "auto") return GemmChoice::automatic;
  if (std::string(env) == "blas") return GemmChoice::blas;
  if (std::string(env) == "onednn") {
    if (onednn().sgemm != nullptr) return GemmChoice::onednn;
    spdlog::warn("HALO_GEMM=onednn, but oneDNN's sgemm is not usable in this process; Halo's products use the BLAS");
    return GemmChoice::blas;
  }
  spdlog::warn("HALO_GEMM={} is none of auto, blas, onednn; Halo's products take the automatic path", env);
  return GemmChoice::automatic;
}

std::atomic<GemmChoice>& choice() {
  static std::atomic<GemmChoice> c(from_environment());
  return c;
}

bool float_on_cpu(const at::Tensor& t) {
  return t.defined() && t.dim() == 2 && t.is_cpu() && t.scalar_type() == at::kFloat;
}

std::string shape(const at::Tensor& t) {
  return t.defined() ? fmt::format("[{}]", fmt::join(t.sizes(), ", ")) : "undefined";
}

void product(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b, bool accumulate) {
  // at::mm_out would resize a wrong out (deprecated) rather than refuse it.
  if (!out.defined() || !a.defined() || !b.defined() || out.dim() != 2 || a.dim() != 2 || b.dim() != 2 ||
      a.size(1) != b.size(0) || out.size(0) != a.size(0) || out.size(1) != b.size(1)) {
    throw Error(fmt::format("{}: out {} does not hold the product of a {} and b {} (expected [m, n] = [m, k] x [k, n])",
                            accumulate ? "gemm_accumulate" : "gemm_out", shape(out), shape(a), shape(b)));
  }
  // Neither path reads its operands before it writes out (at::mm_out computes garbage), so an
  // out sharing memory with one is written through a copy.
  if (out.is_alias_of(a) || out.is_alias_of(b)) {
    const at::Tensor separate = accumulate ? out.clone() : at::empty_like(out);
    product(separate, a, b, accumulate);
    out.copy_(separate);
    return;
  }
  if (gemm_path(a, b, out) == GemmPath::onednn && run_sgemm(onednn().sgemm, out, a, b, accumulate ? 1.0f : 0.0f))
    return;
  at::Tensor c = out;
  if (accumulate) {
    c.addmm_(a, b);
  } else {
    at::mm_out(c, a, b);
  }
}

}  // namespace

GemmChoice gemm_choice() { return choice().load(std::memory_order_relaxed); }

void set_gemm_choice(GemmChoice c) {
  if (c == GemmChoice::onednn && onednn().sgemm == nullptr) {
    throw Error("set_gemm_choice: oneDNN's sgemm is not usable in this process");
  }
  choice().store(c, std::memory_order_relaxed);
}

const char* gemm_choice_name(GemmChoice c) {
  switch (c) {
    case GemmChoice::automatic:
      return "automatic";
    case GemmChoice::blas:
      return "blas";
    case GemmChoice::onednn:
      return "onednn";
  }
  return "?";
}

GemmPath gemm_path(const at::Tensor& a, const at::Tensor& b, const at::Tensor& out) {
  const GemmChoice c = gemm_choice();
  if (c == GemmChoice::blas || !float_on_cpu(a) || !float_on_cpu(b) || !float_on_cpu(out) ||
      onednn().sgemm == nullptr) {
    return GemmPath::blas;
  }
  if (c == GemmChoice::onednn) return GemmPath::onednn;
  if (!onednn_automatic()) return GemmPath::blas;
  // x W and dy W^T; x^T dy stays on the BLAS (see gemm.h).
  const auto la = layout(a);
  return la && la->trans == 'N' ? GemmPath::onednn : GemmPath::blas;
}

void gemm_out(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b) { product(out, a, b, false); }

void gemm_accumulate(const at::Tensor& out, const at::Tensor& a, const at::Tensor& b) { product(out, a, b, true); }

const OneDnnInfo& onednn_info() { return onednn().info; }

bool onednn_automatic() { return onednn().sgemm != nullptr && onednn().info.isa == "avx2"; }

}  // namespace halo
