#include "core/blas_check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <link.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/gemm.h"

namespace halo {
namespace {

// Between the processes of one start: the kernels that failed the check (comma-separated), the
// kernel OpenBLAS chose itself, the user's OPENBLAS_CORETYPE, and the kernel Halo set.
constexpr const char* kTried = "HALO_BLAS_TRIED";
constexpr const char* kOwn = "HALO_BLAS_OWN";
constexpr const char* kUser = "HALO_BLAS_USER";
constexpr const char* kSet = "HALO_BLAS_SET";
constexpr const char* kStarts = "HALO_BLAS_STARTS";
constexpr int kMaxStarts = 6;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The vector level an OpenBLAS kernel set needs.
CpuLevel level_of_kernel(const std::string& kernel) {
  const std::string k = lower(kernel);
  for (const char* name : {"skylakex", "cooperlake", "sapphirerapids"})
    if (k == name) return CpuLevel::avx512;
  for (const char* name : {"haswell", "zen"})
    if (k == name) return CpuLevel::avx2;
  for (const char* name : {"sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"})
    if (k == name) return CpuLevel::avx;
  return CpuLevel::sse2;
}

// Kernels to try, best first: the user's OPENBLAS_CORETYPE if the CPU runs it, the widest for the
// CPU, OpenBLAS's own choice, then narrower ones; less those that failed or the CPU cannot run.
std::vector<std::string> candidates() {
  const CpuLevel cpu = cpu_level();
  std::vector<std::string> order;
  if (!env(kUser).empty()) order.push_back(env(kUser));
  order.push_back(widest_kernel_for_this_cpu());
  order.push_back(env(kOwn));
  for (const char* k : {"Haswell", "Sandybridge", "Prescott"}) order.push_back(k);
  const std::vector<std::string> tried = split(env(kTried));
  std::vector<std::string> out;
  for (const std::string& k : order) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const std::string& o) { return lower(o) == lower(k); });
    const bool failed =
        std::any_of(tried.begin(), tried.end(), [&](const std::string& t) { return lower(t) == lower(k); });
    if (!k.empty() && !seen && !failed && level_of_kernel(k) <= cpu) out.push_back(k);
  }
  return out;
}

// Starts this program again with OPENBLAS_CORETYPE=kernel; returns only if that fails.
void restart_with(const std::string& kernel, char** argv) {
  const int starts = std::atoi(env(kStarts).c_str()) + 1;
  if (starts > kMaxStarts) return;
  setenv(kStarts, std::to_string(starts).c_str(), 1);
  setenv("OPENBLAS_CORETYPE", kernel.c_str(), 1);
  setenv(kSet, kernel.c_str(), 1);
  execv("/proc/self/exe", argv);
  spdlog::warn("could not restart with the {} BLAS kernels ({}); keeping {}", kernel, std::strerror(errno),
               openblas_kernel());
}

// Deterministic values in [-1, 1), without touching LibTorch's global generator.
at::Tensor test_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::rand({rows, cols}, gen, at::kFloat).mul_(2).sub_(1);
}

// c (float32, [m, n]) against the double-precision product of a [m, k] and b [k, n] on some of
// its rows: evenly spread, the last included, as many as about 2e7 multiply-adds allow.
bool matches(const at::Tensor& c, const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor ac = a.contiguous(), bc = b.contiguous(), cc = c.contiguous();
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  const float* pa = ac.data_ptr<float>();
  const float* pb = bc.data_ptr<float>();
  const float* pc = cc.data_ptr<float>();
  const int64_t checked = std::clamp<int64_t>(20000000 / std::max<int64_t>(1, k * n), 2, 64);
  const int64_t step = std::max<int64_t>(1, m / checked);
  // A k-term float sum in any order is within (k + 2) eps of the sum of absolute products.
  const double gamma = (static_cast<double>(k) + 2) * std::numeric_limits<float>::epsilon();
  std::vector<double> sum(static_cast<size_t>(n)), abs_sum(static_cast<size_t>(n));
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < m; i += step) rows.push_back(i);
  if (m > 0 && rows.back() != m - 1) rows.push_back(m - 1);
  for (const int64_t i : rows) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(abs_sum.begin(), abs_sum.end(), 0.0);
    for (int64_t p = 0; p < k; ++p) {
      const double x = pa[i * k + p];
      for (int64_t j = 0; j < n; ++j) {
        const double product = x * pb[p * n + j];
        sum[j] += product;
        abs_sum[j] += std::abs(product);
      }
    }
    for (int64_t j = 0; j < n; ++j) {
      const double got = pc[i * n + j];
      if (!(std::abs(got - sum[j]) <= gamma * abs_sum[j] + std::numeric_limits<float>::min())) return false;
    }
  }
  return true;
}

GemmProduct or_blas(const GemmProduct& product) {
  if (product) return product;
  return [](const at::Tensor& out, const at::Tensor& a, const at::Tensor& b) {
    at::Tensor c = out;
    at::mm_out(c, a, b);
  };
}

at::Tensor product_of(const GemmProduct& product, const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor c = at::empty({a.size(0), b.size(1)}, a.options());
  product(c, a, b);
  return c;
}

}  // namespace

std::string loaded_blas() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
        if (name.find("libblas.so") != std::string::npos || name.find("libopenblas") != std::string::npos) {
          std::error_code ec;
          const auto real = std::filesystem::canonical(name, ec);
          *static_cast<std::string*>(out) = ec ? name : real.string();
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

std::string openblas_kernel() {
  using CoreName = char* (*)();
  const auto corename = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return corename != nullptr ? std::string(corename()) : "";
}

std::string widest_kernel_for_this_cpu() {
  switch (cpu_level()) {
    case CpuLevel::avx512:
      return "SkylakeX";
    case CpuLevel::avx2:
      // OpenBLAS's Zen kernels are its Haswell ones with AMD's cache sizes.
      return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
    case CpuLevel::avx:
      return "Sandybridge";
    case CpuLevel::sse2:
      break;
  }
  return "Prescott";
}

bool gemm_matches_reference(int64_t m, int64_t k, int64_t n, const GemmProduct& product) {
  const GemmProduct mm = or_blas(product);
  const at::Tensor a = test_matrix(m, k, 3), b = test_matrix(k, n, 4), g = test_matrix(m, n, 5);
  // Forward x W, and backward's x^T dy and dy W^T, each through a transposed operand.
  return matches(product_of(mm, a, b), a, b) && matches(product_of(mm, a.t(), g), a.t(), g) &&
         matches(product_of(mm, g, b.t()), g, b.t());
}

bool gemm_passes_check(const GemmProduct& product) {
  return gemm_matches_reference(1, 1, 1, product) && gemm_matches_reference(7, 257, 33, product) &&
         gemm_matches_reference(257, 33, 7, product) && gemm_matches_reference(300, 520, 260, product);
}

double gemm_gflops(const GemmProduct& product) {
  const GemmProduct mm = or_blas(product);
  constexpr int64_t n = 512;
  const at::Tensor a = test_matrix(n, n, 1), b = test_matrix(n, n, 2);
  const at::Tensor c = product_of(mm, a, b);
  double best = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < 3; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    mm(c, a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * n * n * n / best / 1e9;
}

void select_blas_kernel(char** argv) {
  const std::string kernel = openblas_kernel();
  if (std::getenv(kUser) == nullptr) {  // the first start: remember what OpenBLAS and the user chose
    setenv(kOwn, env("OPENBLAS_CORETYPE").empty() ? kernel.c_str() : "", 1);
    setenv(kUser, env("OPENBLAS_CORETYPE").c_str(), 1);
  }
  if (kernel.empty()) {
    if (!gemm_passes_check())
      throw Error(fmt::format("the BLAS library {} computes wrong float32 products", loaded_blas()));
    return;
  }
  std::vector<std::string> next = candidates();
  if (!next.empty() && lower(next.front()) != lower(kernel)) restart_with(next.front(), argv);
  if (gemm_passes_check()) return;
  setenv(kTried, (env(kTried) + "," + kernel).c_str(), 1);
  next = candidates();
  if (next.empty()) {
    throw Error(
        fmt::format("every OpenBLAS kernel set tried ({}) computes wrong float32 products; select another "
                    "BLAS with update-alternatives --config libblas.so.3-$(arch)-linux-gnu",
                    env(kTried).substr(1)));
  }
  spdlog::warn("the {} BLAS kernels compute wrong float32 products on this CPU; trying {}", kernel, next.front());
  restart_with(next.front(), argv);
  throw Error(fmt::format("the {} BLAS kernels compute wrong float32 products and Halo could not restart", kernel));
}

nlohmann::json BlasReport::to_json() const {
  nlohmann::json onednn = nullptr;
  if (!onednn_version.empty()) {
    onednn = {{"version", onednn_version}, {"isa", onednn_isa}, {"gflops", std::round(onednn_gflops)}};
  }
  return {{"library", library}, {"kernel", kernel},   {"chosen_by", chosen_by},
          {"widest", widest},   {"threads", threads}, {"gflops", std::round(gflops)},
          {"gemm", gemm},       {"onednn", onednn}};
}

std::string BlasReport::text() const {
  const std::string blas =
      kernel.empty()
          ? fmt::format("BLAS: {}, float32 GEMM {:.0f} GFLOP/s on {} threads", library, gflops, threads)
          : fmt::format(
                "BLAS: {}, {} kernels (chosen by {}; widest for this CPU: {}), float32 GEMM {:.0f} GFLOP/s on {} "
                "threads",
                library, kernel, chosen_by, widest, gflops, threads);
  if (onednn_version.empty()) {
    return blas +
           (gemm == "blas" ? "; Halo's products on it (HALO_GEMM=blas)" : "; Halo's products on it (oneDNN not used)");
  }
  return fmt::format("{}; Halo's products: oneDNN {} sgemm ({} kernels) {:.0f} GFLOP/s{}", blas, onednn_version,
                     onednn_isa, onednn_gflops,
                     gemm == "onednn" ? " (HALO_GEMM=onednn)" : " for x W and dy W^T, x^T dy on the BLAS");
}

BlasReport blas_report() {
  BlasReport r;
  r.library = loaded_blas();
  r.kernel = openblas_kernel();
  r.widest = widest_kernel_for_this_cpu();
  const std::string set = env(kSet), coretype = env("OPENBLAS_CORETYPE");
  r.chosen_by = coretype.empty() ? "OpenBLAS" : lower(set) == lower(coretype) ? "Halo" : "OPENBLAS_CORETYPE";
  r.threads = at::get_num_threads();
  r.gflops = gemm_gflops();
  r.gemm = gemm_choice_name(gemm_choice());
  if (gemm_choice() == GemmChoice::onednn || (gemm_choice() == GemmChoice::automatic && onednn_automatic())) {
    r.onednn_version = onednn_info().version;
    r.onednn_isa = onednn_info().isa;
    r.onednn_gflops = gemm_gflops(gemm_out);
  }
  return r;
}

void log_blas_report(const BlasReport& r) {
  spdlog::info("{}", r.text());
  if (r.library.find("/blas/") != std::string::npos && r.library.find("openblas") == std::string::npos) {
    spdlog::warn(
        "the reference BLAS is loaded ({}): dense layers run ~20x slower. Install libopenblas0-openmp "
        "(scripts/setup.sh does) or select it with update-alternatives --config libblas.so.3-$(arch)-linux-gnu",
        r.library);
  } else if (!r.kernel.empty() && level_of_kernel(r.kernel) < level_of_kernel(r.widest)) {
    spdlog::warn("OpenBLAS runs its {} kernels where this CPU runs {} ones{}", r.kernel, r.widest,
                 r.chosen_by == "OPENBLAS_CORETYPE" ? " (OPENBLAS_CORETYPE asks for them)" : "");
  }
}

}  // namespace halo
