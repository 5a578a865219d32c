#include "datasets/rmat_generator.h"

#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "core/counter_rng.h"
#include "datasets/generator_support.h"
#include "datasets/node_attributes.h"

namespace halo {
namespace {

enum RmatStream : uint64_t { kRmatEdges = 1, kPermutation };

// Redraws allowed for an endpoint >= n or a self-loop before the draw is folded into range.
constexpr int kMaxTries = 64;

int levels_for(int64_t n) {
  int levels = 0;
  while ((int64_t{1} << levels) < n) ++levels;
  return levels;
}

// A seeded uniform permutation of [0, n) (Fisher-Yates on one counter-based stream).
std::vector<int32_t> scramble(int64_t n, uint64_t seed) {
  std::vector<int32_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = static_cast<int32_t>(i);
  CounterRng rng(stream_key(seed, kPermutation));
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  return perm;
}

// R-MAT: the 2^L x 2^L adjacency matrix (L = ceil(log2 n)) is cut into quadrants [a b; c d] and
// each edge descends L levels, picking a quadrant with those probabilities, which fixes one bit
// of its source (row) and destination (column) per level, most significant first. An edge with
// an endpoint >= n, or a self-loop, is redrawn from the same stream. Node ids are then scrambled,
// hiding the order R-MAT ties to degree (node 0 is the biggest hub).
Graph rmat_graph(const RmatOptions& o) {
  const int64_t n = o.num_nodes();
  const int levels = levels_for(n);
  const double ab = o.a() + o.b(), abc = ab + o.c();
  const auto descend = [&](CounterRng& rng) {
    int64_t src = 0, dst = 0;
    for (int l = 0; l < levels; ++l) {
      const double r = rng.uniform();
      src = 2 * src + (r >= ab);
      dst = 2 * dst + ((r >= o.a() && r < ab) || r >= abc);
    }
    return std::pair{src, dst};
  };
  const std::vector<int32_t> perm = scramble(n, o.seed());
  return draw_symmetric_graph(n, o.average_degree(), stream_key(o.seed(), kRmatEdges), [&](CounterRng& rng) {
    auto [src, dst] = descend(rng);
    for (int tries = 1; tries < kMaxTries && (src >= n || dst >= n || src == dst); ++tries) {
      std::tie(src, dst) = descend(rng);
    }
    return std::pair{perm[src % n], perm[dst % n]};
  });
}

}  // namespace

void check_options(const RmatOptions& o) {
  const std::string where = "rmat options";
  check_common_options(o.num_nodes(), o.num_classes(), o.average_degree(), attribute_options(o), where);
  for (const auto& [field, p] : {std::pair{"a", o.a()}, {"b", o.b()}, {"c", o.c()}}) {
    require_option(p >= 0 && p <= 1, where, field, p, "in [0, 1]");
  }
  require_option(o.a() + o.b() + o.c() <= 1 + 1e-9, where, "a + b + c", o.a() + o.b() + o.c(), "at most 1");
}

Dataset generate_rmat(const RmatOptions& o) {
  check_options(o);
  const NodeAttributeOptions attributes = attribute_options(o);
  return make_dataset(o.name(), rmat_graph(o), uniform_labels(o.num_nodes(), o.num_classes(), attributes.seed()),
                      o.num_classes(), attributes);
}

}  // namespace halo
