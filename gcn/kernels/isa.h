#pragma once
// The instruction set the CPU kernels run with. gcn/CMakeLists.txt compiles the kernels whose
// loops gain from wider vectors (spmm, sddmm, keyed_dropout, sparse_rows) once per x86-64 level,
// each copy into namespace halo::kernels::<level> (isa_kernels.h); their public entry points call
// the copy for kernel_isa() (isa_dispatch.cpp), so the binary runs on any x86-64 processor and
// uses the widest vectors it has. Every copy computes the same bits (sums in the same order, lane
// by lane, and never fused into FMAs): the level changes the speed, never a result.
//
// HALO_KERNEL_ISA=sse2|avx2|avx512 in the environment forces a level, e.g. to compare speeds; a
// level this CPU lacks is never run: it is clamped to the widest the CPU has, with a warning.
namespace halo::kernels {

enum class Isa { sse2, avx2, avx512 };  // in widening order
inline constexpr Isa kIsas[] = {Isa::sse2, Isa::avx2, Isa::avx512};

// "sse2", "avx2", "avx512".
const char* isa_name(Isa isa);

// The widest level this CPU runs.
Isa cpu_isa();

// The level the kernels run: $HALO_KERNEL_ISA (clamped to cpu_isa()), else cpu_isa(); read once.
Isa kernel_isa();

// Makes the kernels run `isa`, clamped to cpu_isa() with a warning (tests, benchmarks); returns
// the level they run now.
Isa set_kernel_isa(Isa isa);

}  // namespace halo::kernels
