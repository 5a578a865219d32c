// Trains a two-layer GIN (gin_conv.h, a layer Halo does not ship) on Cora with Halo's Model and
// Trainer, and prints the test accuracy at the epoch of best validation accuracy.
//
// Usage: gin_cora [CORA_DIR] [EPOCHS]
//   CORA_DIR: Cora in Halo's plain layout (default $HALO_DATA/cora); EPOCHS: default 100.
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include <halo/halo.h>

#include "gin_conv.h"

int main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else if (const char* data = std::getenv("HALO_DATA")) {
    dir = std::string(data) + "/cora";
  } else {
    std::cerr << "usage: " << argv[0] << " CORA_DIR [EPOCHS]   (or set HALO_DATA to the folder holding cora/)\n";
    return 2;
  }
  const int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 100;
  if (epochs <= 0) {
    std::cerr << argv[0] << ": EPOCHS must be a positive integer, got '" << argv[2] << "'\n";
    return 2;
  }

  try {
    halo::Dataset data = halo::load_plain(dir);
    data.features = halo::row_normalized(data.features);
    std::cout << halo::describe(data) << "\n";

    // The parameters are drawn from LibTorch's global generator: seed it for a repeatable run.
    const uint64_t seed = 0;
    torch::manual_seed(seed);
    const int64_t hidden = 64;
    using example::GINConv;
    using example::GINConvOptions;
    // A Model is its layers, with ReLU and dropout 0.5 between them unless told otherwise.
    halo::Model model({GINConv(GINConvOptions(data.num_features(), hidden)),
                       GINConv(GINConvOptions(hidden, data.num_classes).hidden(hidden))});
    std::cout << *model << "\n";

    halo::Trainer trainer(data, model,
                          halo::TrainerOptions().epochs(epochs).lr(0.01).weight_decay(5e-4).seed(seed).progress(false));
    const halo::TrainResult result = trainer.train();
    const halo::EpochMetrics& last = result.epochs.back();
    std::printf("epoch %lld: loss %.4f\n", static_cast<long long>(last.epoch), last.loss);
    std::printf("GIN on %s: best validation accuracy %.4f at epoch %lld, test accuracy %.4f\n", data.name.c_str(),
                result.at_best.val, static_cast<long long>(result.best_epoch), result.at_best.test);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
}
