#pragma once
// Counter-based random numbers: a value depends only on (key, counter), never on which
// thread drew it or in what order, so parallel generators and sharded runs reproduce
// one sequential run exactly.
#include <cmath>
#include <cstdint>

namespace halo {

// The constants of mix64 and stream_key (gcn/kernels/torch_ops.cpp repeats the maths on tensors).
constexpr uint64_t kMixIncrement = 0x9e3779b97f4a7c15ULL, kMixFactor1 = 0xbf58476d1ce4e5b9ULL,
                   kMixFactor2 = 0x94d049bb133111ebULL, kStreamIncrement = 0x632be59bd9b4e019ULL;

// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix.
inline uint64_t mix64(uint64_t x) {
  x += kMixIncrement;
  x = (x ^ (x >> 30)) * kMixFactor1;
  x = (x ^ (x >> 27)) * kMixFactor2;
  return x ^ (x >> 31);
}

// Key of a stream from its parts, e.g. stream_key(seed, epoch, layer, node).
inline uint64_t stream_key(uint64_t first) { return mix64(first); }
template <class... Rest>
uint64_t stream_key(uint64_t first, uint64_t second, Rest... rest) {
  return stream_key(mix64(first) ^ (second + kStreamIncrement), static_cast<uint64_t>(rest)...);
}

class CounterRng {
 public:
  explicit CounterRng(uint64_t key, uint64_t counter = 0) : key_(key), counter_(counter) {}

  uint64_t next() { return mix64(key_ ^ mix64(counter_++)); }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }

  // Standard normal (Box-Muller, one of the pair).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t key_;
  uint64_t counter_;
};

}  // namespace halo
