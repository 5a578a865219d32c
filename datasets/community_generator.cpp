#include "datasets/community_generator.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/counter_rng.h"
#include "datasets/generator_support.h"
#include "datasets/node_attributes.h"

namespace halo {
namespace {

enum CommunityStream : uint64_t { kWeights = 1, kCommunityEdges };

// Redraws allowed for a self-loop or a same-class target of an inter-class edge before the draw
// is kept as is (only when no other choice has weight; the graph build drops a self-loop).
constexpr int kMaxTries = 64;

// Walker's alias method (Vose's construction): slot i yields its own item with probability
// `keep`, else its alias; a uniformly drawn slot then yields item j with probability
// w_j / sum(w), at the cost of one memory access.
struct AliasSlot {
  float keep;
  int32_t item, alias;
};

void build_alias(const double* w, const int32_t* items, int64_t n, AliasSlot* slots) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += w[i];
  std::vector<double> keep(n);
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < n; ++i) {
    keep[i] = w[i] * static_cast<double>(n) / sum;
    (keep[i] < 1 ? small : large).push_back(i);
    slots[i] = {1.0f, items[i], items[i]};
  }
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back(), l = large.back();
    small.pop_back();
    slots[s] = {static_cast<float>(keep[s]), items[s], items[l]};
    keep[l] -= 1 - keep[s];
    if (keep[l] < 1) {
      large.pop_back();
      small.push_back(l);
    }
  }  // slots left in either list keep their item (rounding leftovers)
}

int32_t draw_alias(const AliasSlot* slots, int64_t n, CounterRng& rng) {
  const AliasSlot& s = slots[rng.below(static_cast<uint64_t>(n))];
  return rng.uniform() < s.keep ? s.item : s.alias;
}

// Expected-degree weights theta (Chung-Lu): node v ends up with about d * theta_v / mean(theta)
// edges. gamma = 0: theta = 1. Otherwise theta_v = (1 - u_v)^(-1 / (gamma - 1)) with u_v uniform,
// a Pareto tail P(theta > t) = t^-(gamma - 1), hence P(degree = k) ~ k^-gamma, capped at
// K = mean(min(theta, K)) * sqrt(n / d) so no node expects more than sqrt(n d) edges (the
// structural cut-off beyond which two hubs would need several edges between them). K is the largest
// fixed point of that equation, reached by iterating down from max(theta); sums are sequential so
// the result does not depend on the thread count.
std::vector<double> degree_weights(const CommunityOptions& o) {
  const int64_t n = o.num_nodes();
  const double gamma = o.degree_exponent();
  std::vector<double> theta(n, 1.0);
  if (gamma == 0) return theta;
  tbb::parallel_for(int64_t{0}, n, [&](int64_t v) {
    theta[v] = std::pow(1.0 - CounterRng(stream_key(o.seed(), kWeights, v)).uniform(), -1.0 / (gamma - 1));
  });
  const double spread = std::sqrt(static_cast<double>(n) / std::max(o.average_degree(), 1.0));
  double cap = *std::max_element(theta.begin(), theta.end());
  for (int iter = 0; iter < 100; ++iter) {
    double sum = 0;
    for (double t : theta) sum += std::min(t, cap);
    const double next = spread * sum / static_cast<double>(n);
    if (next >= cap * (1 - 1e-9)) break;
    cap = next;
  }
  for (double& t : theta) t = std::min(t, cap);
  return theta;
}

// Nodes grouped by class, each class with an alias table over its members' weights, and one
// over the classes' total weights: drawing a class, then a node of it, draws a node ~ theta.
class ClassTables {
 public:
  ClassTables(const int64_t* y, int64_t n, int64_t num_classes, const std::vector<double>& theta)
      : offsets_(num_classes + 1, 0), nodes_(n), classes_(num_classes) {
    for (int64_t v = 0; v < n; ++v) ++offsets_[y[v] + 1];
    for (int64_t c = 0; c < num_classes; ++c) offsets_[c + 1] += offsets_[c];
    std::vector<int64_t> cursor(offsets_.begin(), offsets_.end() - 1);
    std::vector<int32_t> members(n);
    for (int64_t v = 0; v < n; ++v) members[cursor[y[v]]++] = static_cast<int32_t>(v);
    std::vector<double> totals(num_classes, 0.0);
    tbb::parallel_for(int64_t{0}, num_classes, [&](int64_t c) {
      std::vector<double> w;
      for (int64_t i = offsets_[c]; i < offsets_[c + 1]; ++i) w.push_back(theta[members[i]]);
      for (double x : w) totals[c] += x;
      build_alias(w.data(), members.data() + offsets_[c], offsets_[c + 1] - offsets_[c], nodes_.data() + offsets_[c]);
    });
    std::vector<int32_t> ids(num_classes);
    for (int64_t c = 0; c < num_classes; ++c) ids[c] = static_cast<int32_t>(c);
    build_alias(totals.data(), ids.data(), num_classes, classes_.data());
  }
  int64_t num_classes() const { return static_cast<int64_t>(classes_.size()); }
  int32_t draw_class(CounterRng& rng) const { return draw_alias(classes_.data(), num_classes(), rng); }
  int32_t draw_node(int32_t c, CounterRng& rng) const {
    return draw_alias(nodes_.data() + offsets_[c], offsets_[c + 1] - offsets_[c], rng);
  }

 private:
  std::vector<int64_t> offsets_;    // class c owns slots [offsets_[c], offsets_[c + 1]) of nodes_
  std::vector<AliasSlot> nodes_;    // items are node ids
  std::vector<AliasSlot> classes_;  // items are class ids
};

// Edge e: class c ~ its total weight, then source u ~ theta within c (so u ~ theta over all
// nodes). With probability h the target class is c, else another class ~ its total weight; the
// target v ~ theta within it, redrawn while v = u. Node v is a source of M theta_v / S edges
// (S = sum theta) and, for balanced classes, a target of as many, so M = n d / 2 undirected draws
// give v about d theta_v / mean(theta) in-edges after symmetrisation, a fraction h of them within
// its class (draw_symmetric_graph tops up what duplicates take away).
Graph community_graph(const CommunityOptions& o, const int64_t* y) {
  const int64_t n = o.num_nodes();
  const ClassTables tables(y, n, o.num_classes(), degree_weights(o));
  // Another class than c, ~ its total weight (c itself only when no other class has weight).
  const auto other_class = [&](int32_t c, CounterRng& rng) {
    int32_t d = c;
    for (int tries = 0; tries < kMaxTries && d == c; ++tries) d = tables.draw_class(rng);
    return d;
  };
  return draw_symmetric_graph(n, o.average_degree(), stream_key(o.seed(), kCommunityEdges), [&](CounterRng& rng) {
    const int32_t c = tables.draw_class(rng);
    const int32_t u = tables.draw_node(c, rng);
    const int32_t target_class = rng.uniform() < o.homophily() ? c : other_class(c, rng);
    int32_t v = u;
    for (int tries = 0; tries < kMaxTries && v == u; ++tries) v = tables.draw_node(target_class, rng);
    return std::pair{u, v};
  });
}

}  // namespace

void check_options(const CommunityOptions& o) {
  const std::string where = "community options";
  check_common_options(o.num_nodes(), o.num_classes(), o.average_degree(), attribute_options(o), where);
  require_option(o.homophily() >= 0 && o.homophily() <= 1, where, "homophily", o.homophily(), "in [0, 1]");
  require_option(o.degree_exponent() == 0 || (o.degree_exponent() > 1 && std::isfinite(o.degree_exponent())), where,
                 "degree_exponent", o.degree_exponent(), "0 (uniform degrees) or a finite number > 1");
}

Dataset generate_community(const CommunityOptions& o) {
  check_options(o);
  const NodeAttributeOptions attributes = attribute_options(o);
  at::Tensor labels = uniform_labels(o.num_nodes(), o.num_classes(), attributes.seed());
  Graph graph = community_graph(o, labels.data_ptr<int64_t>());
  return make_dataset(o.name(), std::move(graph), std::move(labels), o.num_classes(), attributes);
}

}  // namespace halo
