#pragma once
// The widest x86-64 vector level this CPU runs: one answer for choosing OpenBLAS's kernels
// (core/blas_check) and Halo's own (gcn/kernels/isa).
namespace halo {

// In widening order. avx2: AVX2 with FMA; avx512: F, BW, DQ and VL (what OpenBLAS's SkylakeX
// kernels and Halo's AVX-512 kernels use).
enum class CpuLevel { sse2, avx, avx2, avx512 };

// As the CPU reports it (the OS must also save the wider registers, which the checks include).
CpuLevel cpu_level();

}  // namespace halo
