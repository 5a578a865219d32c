#pragma once
// Training runs as the tests and benchmarks set them up: a model seeded like the CLI does it.
#include <torch/utils.h>

#include "datasets/presets.h"
#include "train/trainer.h"

namespace halo::test {

// The "tiny" preset, generated once per test program.
inline const Dataset& tiny() {
  static const Dataset d = generate_preset("tiny");
  return d;
}

struct Run {
  TrainResult result;
  Model model;
};

inline Run train_model(const Dataset& d, ModelOptions model, const TrainerOptions& trainer) {
  torch::manual_seed(trainer.seed());
  Model m(model.in_features(d.num_features()).out_features(d.num_classes));
  Trainer t(d, m, TrainerOptions(trainer).progress(false));
  return {t.train(), m};
}

inline std::vector<double> losses(const TrainResult& r) {
  std::vector<double> out;
  for (const EpochMetrics& m : r.epochs) out.push_back(m.loss);
  return out;
}

}  // namespace halo::test
