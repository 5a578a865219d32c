#include "core/cpu_features.h"

namespace halo {

CpuLevel cpu_level() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return CpuLevel::avx512;
  }
  if (avx2) return CpuLevel::avx2;
  return __builtin_cpu_supports("avx") ? CpuLevel::avx : CpuLevel::sse2;
}

}  // namespace halo
