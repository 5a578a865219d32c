#pragma once
// Packs: GCC/Clang vectors as wide as a register of the instruction set this copy of the kernels
// is compiled for (isa.h): 16 bytes with SSE2, which every x86-64 processor has, 32 with AVX2, 64
// with AVX-512. Lane-wise arithmetic only: summing packs never reorders a sum across columns, so
// every width gives the same bits.
#include <cstddef>
#include <cstring>
#include <utility>

#ifndef HALO_KERNEL_ISA
#error "simd.h is for the kernel sources compiled once per instruction set (gcn/CMakeLists.txt)"
#endif

// In the copy's own namespace: each copy has packs of another width.
namespace halo::kernels::HALO_KERNEL_ISA {

#if defined(__AVX512F__)
inline constexpr int kPackBytes = 64;
#elif defined(__AVX2__)
inline constexpr int kPackBytes = 32;
#else
inline constexpr int kPackBytes = 16;
#endif

// Bytes of T (float, double, or the integers of hashes and masks) as one vector.
template <class T, int Bytes = kPackBytes>
struct Pack {
  typedef T type __attribute__((vector_size(Bytes)));
  static constexpr int lanes = Bytes / sizeof(T);
};
template <class T, int Bytes = kPackBytes>
using pack_t = typename Pack<T, Bytes>::type;

// Unaligned load / store of a pack V of T (memcpy compiles to one unaligned move).
template <class V, class T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <class V, class T>
inline void store(T* p, V v) {
  std::memcpy(p, &v, sizeof(v));
}

// Every lane s, written out as an initializer list: a loop over lanes compiles to a chain of
// shuffles, this to one broadcast.
template <class V, class T, size_t... I>
inline V broadcast(T s, std::index_sequence<I...>) {
  return V{(static_cast<void>(I), s)...};
}
template <class V, class T>
inline V broadcast(T s) {
  return broadcast<V>(s, std::make_index_sequence<sizeof(V) / sizeof(T)>());
}

}  // namespace halo::kernels::HALO_KERNEL_ISA
