#pragma once
// Random graphs for the kernel and layer tests: CSR patterns shaped like a part (inner rows, then
// halo columns) and Blocks over them.
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "sampling/block.h"

namespace halo::test {

enum class Diagonal { absent, present, random };

// rows x cols, rows <= cols (a part: inner rows, then halo columns). Row 0 is empty, row 1
// (when rows > 1) holds every column, the others a random few (some empty).
inline Csr random_csr(int64_t rows, int64_t cols, Diagonal diagonal, uint64_t seed, int max_degree = 8) {
  std::mt19937_64 rng(seed);
  Csr a;
  a.cols = cols;
  for (int64_t v = 0; v < rows; ++v) {
    std::set<int32_t> row;
    if (v == 1) {
      for (int64_t u = 0; u < cols; ++u) row.insert(static_cast<int32_t>(u));
    } else if (v > 1) {
      const int64_t degree = static_cast<int64_t>(rng() % (max_degree + 1));
      for (int64_t i = 0; i < degree; ++i) row.insert(static_cast<int32_t>(rng() % cols));
    }
    if (diagonal == Diagonal::absent) row.erase(static_cast<int32_t>(v));
    if (diagonal == Diagonal::present && v > 0) row.insert(static_cast<int32_t>(v));
    a.indices.insert(a.indices.end(), row.begin(), row.end());
    a.offsets.push_back(static_cast<int64_t>(a.indices.size()));
  }
  return a;
}

inline Block random_block(int64_t rows, int64_t cols, uint64_t seed, int max_degree = 4) {
  const Csr a = random_csr(rows, cols, Diagonal::absent, seed, max_degree);
  std::vector<int32_t> in(cols), out(cols);
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < cols; ++i) {
    in[i] = 1 + static_cast<int32_t>(rng() % 9);
    out[i] = 1 + static_cast<int32_t>(rng() % 9);
  }
  std::vector<int64_t> ids(cols);
  for (int64_t i = 0; i < cols; ++i) ids[i] = 100 + 3 * i;
  return Block(a, in, out, ids);
}

}  // namespace halo::test
