#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "datasets/community_generator.h"
#include "datasets/presets.h"
#include "datasets/rmat_generator.h"
#include "test_support.h"

namespace halo {
namespace {

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.graph, b.graph);
  EXPECT_TRUE(at::equal(a.features, b.features));
  EXPECT_TRUE(at::equal(a.labels, b.labels));
  EXPECT_TRUE(at::equal(a.train_mask, b.train_mask));
  EXPECT_TRUE(at::equal(a.val_mask, b.val_mask));
  EXPECT_TRUE(at::equal(a.test_mask, b.test_mask));
  EXPECT_EQ(a.num_classes, b.num_classes);
}

// A symmetric simple graph with consistent tensors.
void expect_well_formed(const Dataset& d) {
  EXPECT_NO_THROW(d.graph.check());
  EXPECT_NO_THROW(d.check("generated"));
  EXPECT_TRUE(d.graph.is_symmetric());
  EXPECT_EQ(d.graph.num_self_loops(), 0);
}

double average_degree(const Dataset& d) { return static_cast<double>(d.graph.num_edges()) / d.num_nodes(); }

int32_t max_degree(const Dataset& d) {
  const std::vector<int32_t> deg = d.graph.in_degrees();
  return *std::max_element(deg.begin(), deg.end());
}

// Fraction of edges whose ends share a class.
double edge_homophily(const Dataset& d) {
  const int64_t* y = d.labels.data_ptr<int64_t>();
  int64_t same = 0;
  for (int32_t v = 0; v < d.num_nodes(); ++v) {
    for (int32_t u : d.graph.in_neighbors(v)) same += y[u] == y[v];
  }
  return static_cast<double>(same) / d.graph.num_edges();
}

// Mean of x over the in-neighbours of each node and the node itself, [N * F].
std::vector<double> mean_aggregate(const Dataset& d, const std::vector<double>& x) {
  const int64_t f = d.num_features();
  std::vector<double> out(x);
  for (int32_t v = 0; v < d.num_nodes(); ++v) {
    double* row = out.data() + v * f;
    for (int32_t u : d.graph.in_neighbors(v)) {
      for (int64_t j = 0; j < f; ++j) row[j] += x[u * f + j];
    }
    for (int64_t j = 0; j < f; ++j) row[j] /= static_cast<double>(d.graph.in_degree(v) + 1);
  }
  return out;
}

std::vector<double> raw_features(const Dataset& d) {
  const at::Tensor x = d.features.to(at::kDouble).contiguous();
  return std::vector<double>(x.data_ptr<double>(), x.data_ptr<double>() + x.numel());
}

// Class means of the rows of x selected by `mask`, [C * F].
std::vector<double> class_means(const Dataset& d, const std::vector<double>& x, const at::Tensor& mask) {
  const int64_t f = d.num_features(), c = d.num_classes;
  const int64_t* y = d.labels.data_ptr<int64_t>();
  const bool* m = mask.data_ptr<bool>();
  std::vector<double> mean(c * f, 0.0);
  std::vector<int64_t> count(c, 0);
  for (int64_t v = 0; v < d.num_nodes(); ++v) {
    if (!m[v]) continue;
    ++count[y[v]];
    for (int64_t j = 0; j < f; ++j) mean[y[v] * f + j] += x[v * f + j];
  }
  for (int64_t k = 0; k < c * f; ++k) mean[k] /= std::max<int64_t>(count[k / f], 1);
  return mean;
}

// Accuracy on val nodes of the nearest class centroid, centroids taken over train nodes.
double nearest_centroid_accuracy(const Dataset& d, const std::vector<double>& x) {
  const int64_t f = d.num_features(), c = d.num_classes;
  const std::vector<double> centroid = class_means(d, x, d.train_mask);
  const int64_t* y = d.labels.data_ptr<int64_t>();
  const bool* val = d.val_mask.data_ptr<bool>();
  int64_t right = 0, total = 0;
  for (int64_t v = 0; v < d.num_nodes(); ++v) {
    if (!val[v]) continue;
    int64_t best = 0;
    double best_dist = INFINITY;
    for (int64_t k = 0; k < c; ++k) {
      double dist = 0;
      for (int64_t j = 0; j < f; ++j) dist += std::pow(x[v * f + j] - centroid[k * f + j], 2);
      if (dist < best_dist) std::tie(best, best_dist) = std::pair{k, dist};
    }
    right += best == y[v];
    ++total;
  }
  return static_cast<double>(right) / total;
}

Dataset with_threads(int threads, const std::function<Dataset()>& make) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  return make();
}

const CommunityOptions kPowerLaw =
    CommunityOptions().num_nodes(3000).num_classes(5).num_features(9).average_degree(12).degree_exponent(2.5);
const RmatOptions kSmallRmat = RmatOptions().num_nodes(3000).num_features(7).average_degree(16);

TEST(Generators, SameSeedSameDatasetOtherSeedDiffers) {
  expect_same(generate_community(kPowerLaw), generate_community(kPowerLaw));
  expect_same(generate_rmat(kSmallRmat), generate_rmat(kSmallRmat));
  const Dataset a = generate_community(kPowerLaw);
  const Dataset b = generate_community(CommunityOptions(kPowerLaw).seed(1));
  EXPECT_FALSE(a.graph == b.graph);
  EXPECT_FALSE(at::equal(a.features, b.features));
  EXPECT_FALSE(at::equal(a.labels, b.labels));
  EXPECT_FALSE(at::equal(a.train_mask, b.train_mask));
  EXPECT_FALSE(generate_rmat(kSmallRmat).graph == generate_rmat(RmatOptions(kSmallRmat).seed(1)).graph);
}

TEST(Generators, SameOutputOnOneAndTwoThreads) {
  const auto community = [] { return generate_community(CommunityOptions(kPowerLaw).num_nodes(20000)); };
  expect_same(with_threads(1, community), with_threads(2, community));
  const auto rmat = [] { return generate_rmat(RmatOptions(kSmallRmat).num_nodes(20000)); };
  expect_same(with_threads(1, rmat), with_threads(2, rmat));
}

TEST(Generators, SplitFractionsNearRequested) {
  const Dataset d = generate_community(CommunityOptions().num_nodes(20000).train_fraction(0.5).val_fraction(0.3));
  const double n = static_cast<double>(d.num_nodes());
  EXPECT_NEAR(d.train_mask.sum().item<int64_t>() / n, 0.5, 0.02);
  EXPECT_NEAR(d.val_mask.sum().item<int64_t>() / n, 0.3, 0.02);
  EXPECT_NEAR(d.test_mask.sum().item<int64_t>() / n, 0.2, 0.02);
  // Disjoint and covering: every node in exactly one split.
  const bool* masks[] = {d.train_mask.data_ptr<bool>(), d.val_mask.data_ptr<bool>(), d.test_mask.data_ptr<bool>()};
  for (int64_t v = 0; v < d.num_nodes(); ++v) ASSERT_EQ(masks[0][v] + masks[1][v] + masks[2][v], 1) << v;
}

TEST(Generators, CentroidsLieSnrNoiseDeviationsApart) {
  for (int64_t f : {4, 257}) {
    const Dataset d = generate_community(CommunityOptions().num_nodes(8000).num_features(f).feature_snr(2));
    const std::vector<double> mean = class_means(d, raw_features(d), at::ones({d.num_nodes()}, at::kBool));
    double sum = 0;
    int pairs = 0;
    for (int64_t a = 0; a < d.num_classes; ++a) {
      for (int64_t b = a + 1; b < d.num_classes; ++b, ++pairs) {
        double dist2 = 0;
        for (int64_t j = 0; j < f; ++j) dist2 += std::pow(mean[a * f + j] - mean[b * f + j], 2);
        sum += std::sqrt(dist2);
      }
    }
    EXPECT_NEAR(sum / pairs, 2.0, 0.5) << f << " features";
  }
}

TEST(CommunityGenerator, SymmetricSimpleGraphWithRequestedDegree) {
  for (const double degree : {4.0, 12.0, 30.0}) {
    for (const double gamma : {0.0, 2.5}) {
      const Dataset d = generate_community(CommunityOptions(kPowerLaw).average_degree(degree).degree_exponent(gamma));
      expect_well_formed(d);
      EXPECT_NEAR(average_degree(d), degree, 0.1 * degree) << "degree " << degree << ", exponent " << gamma;
    }
  }
}

TEST(CommunityGenerator, HomophilyNearRequested) {
  for (const double h : {0.1, 0.5, 0.9}) {
    for (const double gamma : {0.0, 2.5}) {
      const Dataset d = generate_community(CommunityOptions(kPowerLaw).homophily(h).degree_exponent(gamma));
      EXPECT_NEAR(edge_homophily(d), h, 0.05) << "homophily " << h << ", exponent " << gamma;
    }
  }
}

TEST(CommunityGenerator, PowerLawDegreesHaveHubs) {
  const Dataset flat = generate_community(CommunityOptions(kPowerLaw).num_nodes(20000).degree_exponent(0));
  const Dataset skewed = generate_community(CommunityOptions(kPowerLaw).num_nodes(20000));
  EXPECT_LT(max_degree(flat), 3 * average_degree(flat));
  EXPECT_GT(max_degree(skewed), 10 * average_degree(skewed));
}

TEST(CommunityGenerator, AggregatingNeighboursHelpsANearestCentroidClassifier) {
  for (const std::string spec : {"tiny", "community:nodes=3000"}) {
    const Dataset d = generate_preset(spec);
    const std::vector<double> x = raw_features(d);
    const double raw = nearest_centroid_accuracy(d, x);
    const double aggregated = nearest_centroid_accuracy(d, mean_aggregate(d, x));
    EXPECT_GT(raw, 1.0 / d.num_classes + 0.05) << spec;
    EXPECT_GE(aggregated, raw + 0.10) << spec << ": raw " << raw;
  }
}

TEST(RmatGenerator, SkewedSymmetricGraphOnAnyNodeCount) {
  const Dataset d = generate_rmat(kSmallRmat);
  EXPECT_EQ(d.num_nodes(), 3000);
  expect_well_formed(d);
  EXPECT_NEAR(average_degree(d), 16, 1.6);
  EXPECT_GT(max_degree(d), 10 * average_degree(d));
  // Scrambled ids: R-MAT's biggest hub is node 0 before the permutation.
  const std::vector<int32_t> deg = d.graph.in_degrees();
  EXPECT_NE(std::max_element(deg.begin(), deg.end()) - deg.begin(), 0);
}

TEST(Generators, RefuseBadOptions) {
  test::expect_error([] { generate_community(CommunityOptions().homophily(1.5)); },
                     {"community options", "homophily", "[0, 1]", "1.5"});
  test::expect_error([] { generate_community(CommunityOptions().degree_exponent(0.5)); }, {"degree_exponent", "0.5"});
  test::expect_error([] { generate_community(CommunityOptions().num_nodes(10).average_degree(10)); },
                     {"average_degree", "[0, num_nodes - 1 = 9]"});
  test::expect_error([] { generate_community(CommunityOptions().train_fraction(0.9).val_fraction(0.2)); },
                     {"train_fraction + val_fraction", "at most 1"});
  test::expect_error([] { generate_rmat(RmatOptions().a(0.6).b(0.3).c(0.3)); }, {"rmat options", "a + b + c"});
  test::expect_error([] { generate_rmat(RmatOptions().num_features(0)); }, {"num_features", "got 0"});
  EXPECT_THROW(generate_community(CommunityOptions().num_classes(0)), UsageError);
}

TEST(Presets, NamesAndSpecs) {
  EXPECT_EQ(preset_names(), (std::vector<std::string>{"tiny", "community", "reddit-sim", "products-sim", "rmat"}));
  EXPECT_TRUE(is_preset("tiny"));
  EXPECT_TRUE(is_preset("reddit-sim:degree=20"));
  EXPECT_FALSE(is_preset("reddit"));
  EXPECT_FALSE(is_preset("/data/cora"));
  const Dataset tiny = generate_preset("tiny");
  EXPECT_EQ(tiny.name, "tiny");
  EXPECT_EQ(tiny.num_nodes(), 400);
  EXPECT_EQ(tiny.num_classes, 4);
  EXPECT_EQ(tiny.num_features(), 16);
  expect_same(generate_preset("tiny:"), tiny);
}

TEST(Presets, OverridesApply) {
  const Dataset d = generate_preset("tiny:nodes=1000,classes=3,features=7,degree=5,homophily=0.5,snr=2,seed=9");
  EXPECT_EQ(d.name, "tiny:nodes=1000,classes=3,features=7,degree=5,homophily=0.5,snr=2,seed=9");
  EXPECT_EQ(d.num_nodes(), 1000);
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.num_features(), 7);
  EXPECT_NEAR(average_degree(d), 5, 0.5);
  EXPECT_NEAR(edge_homophily(d), 0.5, 0.05);
  expect_same(d, generate_community(CommunityOptions()
                                        .name(d.name)
                                        .num_nodes(1000)
                                        .num_classes(3)
                                        .num_features(7)
                                        .average_degree(5)
                                        .homophily(0.5)
                                        .feature_snr(2)
                                        .seed(9)));
  EXPECT_EQ(generate_preset("community:scale=0.05").num_nodes(), 1000);
  EXPECT_EQ(generate_preset("reddit-sim:scale=0.01,degree=10").num_features(), 602);
  const Dataset rmat = generate_preset("rmat:nodes=5000,degree=8,classes=3");
  EXPECT_EQ(rmat.num_nodes(), 5000);
  EXPECT_EQ(rmat.num_classes, 3);
}

TEST(Presets, RefuseUnknownNamesKeysAndBadValues) {
  test::expect_error([] { generate_preset("reddit"); },
                     {"unknown preset 'reddit'", "tiny, community, reddit-sim, products-sim, rmat"});
  test::expect_error([] { generate_preset("tiny:size=3"); },
                     {"unknown key 'size'", "nodes, scale, degree, classes, features, homophily, snr, seed"});
  test::expect_error([] { generate_preset("rmat:homophily=0.5"); },
                     {"unknown key 'homophily'", "preset 'rmat'", "valid keys: nodes"});
  test::expect_error([] { generate_preset("tiny:nodes=abc"); },
                     {"'tiny:nodes=abc'", "nodes needs an integer", "'abc'"});
  test::expect_error([] { generate_preset("tiny:snr=x1"); }, {"snr needs a number", "'x1'"});
  test::expect_error([] { generate_preset("tiny:nodes"); }, {"expected key=value", "'nodes'"});
  test::expect_error([] { generate_preset("tiny:scale=0"); }, {"scale must be > 0"});
  test::expect_error([] { generate_preset("tiny:nodes=5,nodes=6"); }, {"'nodes' given twice"});
  test::expect_error([] { generate_preset("tiny:homophily=2"); },
                     {"preset spec 'tiny:homophily=2'", "homophily must be in [0, 1], got 2"});
  EXPECT_THROW(generate_preset("tiny:nodes=0"), UsageError);
}

}  // namespace
}  // namespace halo
