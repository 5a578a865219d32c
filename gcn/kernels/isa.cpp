#include "gcn/kernels/isa.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include "core/cpu_features.h"

namespace halo::kernels {
namespace {

Isa clamp(Isa wanted, const char* by) {
  const Isa widest = cpu_isa();
  if (wanted > widest) {
    spdlog::warn("{} asks the CPU kernels for {}, which this CPU lacks; they run {}", by, isa_name(wanted),
                 isa_name(widest));
  }
  return std::min(wanted, widest);
}

Isa from_environment() {
  const char* env = std::getenv("HALO_KERNEL_ISA");
  if (env == nullptr || *env == '\0') return cpu_isa();
  for (Isa isa : kIsas) {
    if (std::string(env) == isa_name(isa)) return clamp(isa, "HALO_KERNEL_ISA");
  }
  spdlog::warn("HALO_KERNEL_ISA={} is none of sse2, avx2, avx512; the CPU kernels run {}", env, isa_name(cpu_isa()));
  return cpu_isa();
}

std::atomic<Isa>& running() {
  static std::atomic<Isa> isa(from_environment());
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::sse2:
      return "sse2";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

Isa cpu_isa() {
  // AVX alone adds nothing the copies use over SSE2.
  static const Isa widest = cpu_level() == CpuLevel::avx512 ? Isa::avx512
                            : cpu_level() == CpuLevel::avx2 ? Isa::avx2
                                                            : Isa::sse2;
  return widest;
}

Isa kernel_isa() { return running().load(std::memory_order_relaxed); }

Isa set_kernel_isa(Isa isa) {
  const Isa level = clamp(isa, "set_kernel_isa");
  running().store(level, std::memory_order_relaxed);
  return level;
}

}  // namespace halo::kernels
