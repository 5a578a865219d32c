#pragma once
// Pack<T>: 16 bytes of T (4 floats or 2 doubles) as a GCC/Clang vector, the width every x86-64
// processor has (SSE2), so the kernels vectorise without -march and run on any x86-64 machine.
// Lane-wise arithmetic only: summing packs never reorders a sum across columns.
#include <cstring>
#include <type_traits>

namespace halo::kernels {

template <class T>
struct Pack {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  typedef T type __attribute__((vector_size(16)));
  static constexpr int lanes = 16 / sizeof(T);
};
template <class T>
using pack_t = typename Pack<T>::type;

// Unaligned load / store (memcpy compiles to movups).
template <class T>
inline pack_t<T> load_pack(const T* p) {
  pack_t<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <class T>
inline void store_pack(T* p, pack_t<T> v) {
  std::memcpy(p, &v, sizeof(v));
}
// Written out per lane count: a loop over lanes compiles to a chain of shuffles, this to one.
template <class T>
inline pack_t<T> broadcast(T s) {
  if constexpr (Pack<T>::lanes == 4) {
    return pack_t<T>{s, s, s, s};
  } else {
    return pack_t<T>{s, s};
  }
}

}  // namespace halo::kernels
