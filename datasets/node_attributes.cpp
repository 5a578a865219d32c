#include "datasets/node_attributes.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.h"
#include "datasets/generator_support.h"

namespace halo {
namespace {

// Streams of one seed; each is further keyed by node or class.
enum AttributeStream : uint64_t { kLabels = 1, kCentroids, kNoise, kSplit };

// Box-Muller: two independent standard normals from two uniforms.
std::pair<double, double> normal_pair(CounterRng& rng) {
  const double r = std::sqrt(-2.0 * std::log(1.0 - rng.uniform()));
  const double t = 6.283185307179586 * rng.uniform();
  return {r * std::cos(t), r * std::sin(t)};
}

// Class centroids, [C * F] row-major. mu_c = g_c * s / ||g_c|| with g_c ~ N(0, I_F) and
// s = snr / sqrt(2): random directions are nearly orthogonal, so
// ||mu_a - mu_b||^2 ~ 2 s^2 = snr^2 whatever F, i.e. the centroids lie `snr` noise standard
// deviations apart (the noise has unit variance along every direction).
std::vector<float> class_centroids(int64_t num_classes, int64_t f, double snr, uint64_t seed) {
  std::vector<float> mu(static_cast<size_t>(num_classes * f));
  std::vector<double> g(static_cast<size_t>(f + 1));
  for (int64_t c = 0; c < num_classes; ++c) {
    CounterRng rng(stream_key(seed, kCentroids, c));
    double norm2 = 0;
    for (int64_t j = 0; j < f; j += 2) std::tie(g[j], g[j + 1]) = normal_pair(rng);
    for (int64_t j = 0; j < f; ++j) norm2 += g[j] * g[j];
    const double scale = norm2 > 0 ? snr / std::sqrt(2.0 * norm2) : 0.0;
    for (int64_t j = 0; j < f; ++j) mu[c * f + j] = static_cast<float>(g[j] * scale);
  }
  return mu;
}

}  // namespace

void check_options(const NodeAttributeOptions& o, const std::string& where) {
  require_option(o.num_features() >= 1 && o.num_features() <= kMaxFeatures, where, "num_features",
                 static_cast<double>(o.num_features()), fmt::format("in [1, {}]", kMaxFeatures));
  require_option(o.feature_snr() >= 0 && std::isfinite(o.feature_snr()), where, "feature_snr", o.feature_snr(),
                 "a finite number >= 0");
  require_option(o.train_fraction() >= 0 && o.train_fraction() <= 1, where, "train_fraction", o.train_fraction(),
                 "in [0, 1]");
  require_option(o.val_fraction() >= 0 && o.val_fraction() <= 1, where, "val_fraction", o.val_fraction(), "in [0, 1]");
  require_option(o.train_fraction() + o.val_fraction() <= 1, where, "train_fraction + val_fraction",
                 o.train_fraction() + o.val_fraction(), "at most 1");
}

at::Tensor uniform_labels(int64_t n, int64_t num_classes, uint64_t seed) {
  at::Tensor labels = at::empty({n}, at::kLong);
  int64_t* y = labels.data_ptr<int64_t>();
  tbb::parallel_for(int64_t{0}, n, [&](int64_t v) {
    y[v] = static_cast<int64_t>(CounterRng(stream_key(seed, kLabels, v)).below(num_classes));
  });
  return labels;
}

at::Tensor class_features(const at::Tensor& labels, int64_t num_classes, const NodeAttributeOptions& options) {
  const int64_t n = labels.size(0), f = options.num_features();
  const std::vector<float> mu = class_centroids(num_classes, f, options.feature_snr(), options.seed());
  const at::Tensor y_contig = labels.contiguous();
  const int64_t* y = y_contig.data_ptr<int64_t>();
  at::Tensor features = at::empty({n, f}, at::kFloat);
  float* x = features.data_ptr<float>();
  // x_v = mu_{y_v} + N(0, I): one noise stream per node.
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t v = r.begin(); v != r.end(); ++v) {
      CounterRng rng(stream_key(options.seed(), kNoise, v));
      float* row = x + v * f;
      const float* centre = y[v] >= 0 ? mu.data() + y[v] * f : nullptr;
      for (int64_t j = 0; j < f; j += 2) {
        const auto [z0, z1] = normal_pair(rng);
        row[j] = static_cast<float>(z0) + (centre ? centre[j] : 0.0f);
        if (j + 1 < f) row[j + 1] = static_cast<float>(z1) + (centre ? centre[j + 1] : 0.0f);
      }
    }
  });
  return features;
}

SplitMasks random_split(int64_t n, const NodeAttributeOptions& options) {
  SplitMasks s{at::empty({n}, at::kBool), at::empty({n}, at::kBool), at::empty({n}, at::kBool)};
  bool* train = s.train.data_ptr<bool>();
  bool* val = s.val.data_ptr<bool>();
  bool* test = s.test.data_ptr<bool>();
  const double train_end = options.train_fraction();
  const double val_end = train_end + options.val_fraction();
  tbb::parallel_for(int64_t{0}, n, [&](int64_t v) {
    const double u = CounterRng(stream_key(options.seed(), kSplit, v)).uniform();
    train[v] = u < train_end;
    val[v] = !train[v] && u < val_end;
    test[v] = !train[v] && !val[v];
  });
  return s;
}

void add_node_attributes(Dataset& d, const NodeAttributeOptions& options) {
  d.features = class_features(d.labels, d.num_classes, options);
  SplitMasks split = random_split(d.num_nodes(), options);
  d.train_mask = std::move(split.train);
  d.val_mask = std::move(split.val);
  d.test_mask = std::move(split.test);
}

Dataset make_dataset(std::string name, Graph graph, at::Tensor labels, int64_t num_classes,
                     const NodeAttributeOptions& options) {
  Dataset d;
  d.name = std::move(name);
  d.graph = std::move(graph);
  d.labels = std::move(labels);
  d.num_classes = num_classes;
  add_node_attributes(d, options);
  d.check(d.name);
  return d;
}

}  // namespace halo
