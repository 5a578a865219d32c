// Accuracy on real data (../shared/datasets) with the papers' setups; test accuracy at the
// best validation epoch, averaged over seeds.
#include <gtest/gtest.h>

#include <numeric>

#include "datasets/plain_loader.h"
#include "test_support.h"
#include "training_support.h"

namespace halo {
namespace {

Dataset normalized(const std::string& name) {
  Dataset d = load_plain(test::dataset_dir(name));
  d.features = row_normalized(d.features);
  return d;
}

double mean_test_accuracy(const Dataset& d, const ModelOptions& model, const TrainerOptions& trainer, int seeds) {
  double sum = 0;
  for (int s = 0; s < seeds; ++s) {
    const TrainResult r = test::train_model(d, model, TrainerOptions(trainer).seed(s)).result;
    std::printf("  %s %s seed %d: test %.2f%% at best val %.2f%% (epoch %lld)\n", d.name.c_str(), model.kind().c_str(),
                s, 100 * r.at_best.test, 100 * r.at_best.val, static_cast<long long>(r.best_epoch));
    sum += r.at_best.test;
  }
  return 100 * sum / seeds;
}

// Kipf & Welling: 2 layers, hidden 16, lr 0.01, weight decay 5e-4 on the first layer, dropout
// 0.5, 200 epochs.
const ModelOptions kKipf = ModelOptions().kind("gcn").hidden(16).dropout(0.5);
const TrainerOptions kKipfTrainer =
    TrainerOptions().epochs(200).lr(0.01).weight_decay(5e-4).decay_first_layer_only(true);

TEST(Accuracy, CoraGcnTenSeeds) {
  const double acc = mean_test_accuracy(normalized("cora"), kKipf, kKipfTrainer, 10);
  std::printf("Cora GCN mean over 10 seeds: %.2f%% (published 81.5%%)\n", acc);
  EXPECT_GE(acc, 80.5);
}

// Layer 0's aggregation precomputed (DESIGN rule 4; Cora's sparse features would not choose it
// by default): dropout then falls on the aggregate, and the floor stays.
TEST(Accuracy, CoraGcnTenSeedsPrecomputed) {
  const double acc =
      mean_test_accuracy(normalized("cora"), kKipf, TrainerOptions(kKipfTrainer).precompute_input(true), 10);
  std::printf("Cora GCN, input aggregated at set-up, mean over 10 seeds: %.2f%%\n", acc);
  EXPECT_GE(acc, 80.5);
}

TEST(Accuracy, CoraGraphSage) {
  const double acc = mean_test_accuracy(normalized("cora"), ModelOptions(kKipf).kind("sage"), kKipfTrainer, 5);
  std::printf("Cora GraphSAGE mean over 5 seeds: %.2f%%\n", acc);
  EXPECT_GE(acc, 79.0);
}

// Velickovic et al.: 8 heads x 8 hidden, 1 output head, dropout 0.6, lr 0.005, weight decay 5e-4.
TEST(Accuracy, CoraGat) {
  const double acc = mean_test_accuracy(normalized("cora"), ModelOptions().kind("gat").hidden(8).heads(8).dropout(0.6),
                                        TrainerOptions(kKipfTrainer).lr(0.005).decay_first_layer_only(false), 5);
  std::printf("Cora GAT mean over 5 seeds: %.2f%% (published 83.0%%)\n", acc);
  EXPECT_GE(acc, 81.5);
}

// Coauthor CS in Kipf's setup averages 89.6% test accuracy over seeds 0-9 (single seeds 87.1% to
// 91.2%; 89.58% with the earlier 64-bit dropout draws, 89.61% with the 16-bit ones); Shchur et al.
// report 91.1%, averaged over random splits. A floor of 90% over 3 seeds passed by the luck of
// seeds 0-2, so each floor sits 2.5 standard errors (seed spread 1.0 / sqrt(seeds)) below 89.6%.
TEST(Accuracy, CoauthorCsGcn) {
  const double acc = mean_test_accuracy(normalized("coauthor-cs"), kKipf, kKipfTrainer, 10);
  std::printf("Coauthor CS GCN mean over 10 seeds: %.2f%% (published 91.1%%)\n", acc);
  EXPECT_GE(acc, 88.8);
}

// The input aggregated at set-up is 18k x 6.8k at 6.7% non-zero, held as sparse rows, and an epoch
// still takes 5x the one on the bag-of-words: 3 seeds.
TEST(Accuracy, CoauthorCsGcnPrecomputed) {
  const double acc =
      mean_test_accuracy(normalized("coauthor-cs"), kKipf, TrainerOptions(kKipfTrainer).precompute_input(true), 3);
  std::printf("Coauthor CS GCN, input aggregated at set-up, mean over 3 seeds: %.2f%%\n", acc);
  EXPECT_GE(acc, 88.2);
}

}  // namespace
}  // namespace halo
