#include "accel_model/model_probe.h"

#include <ATen/Functions.h>
#include <torch/utils.h>

#include <algorithm>

#include "core/resources.h"
#include "gcn/sparse_features.h"

namespace halo {
namespace {

// At least kMinRepeats runs and kMinSeconds of them, at most kMaxRepeats: stable medians on
// small graphs, bounded time on big ones.
constexpr int kMinRepeats = 21, kMaxRepeats = 101;
constexpr double kMinSeconds = 0.3;

}  // namespace

ModelProbe probe_model(Model model, const Block& block, const at::Tensor& features) {
  torch::NoGradGuard no_grad;
  const bool training = model->is_training();
  model->eval();
  ModelProbe probe;

  at::Tensor h = features;
  for (int64_t l = 0; l < model->num_layers(); ++l) {
    probe.layers.push_back({h.size(1), model->layer(l)->out_features(), h.count_nonzero().item<int64_t>()});
    h = model->layer(l)->forward(block, h);
    if (l + 1 < model->num_layers()) h = at::relu(h);
  }
  // Timed on the path training takes: mostly-zero features as sparse rows.
  const at::Tensor input = layer_input(features, model->takes_sparse_input());
  const at::Tensor logits = model->forward(block, input, 0);  // also the warm-up run
  probe.exact = at::allclose(h, logits, 1e-4, 1e-5);
  if (!probe.exact) {
    for (size_t l = 1; l < probe.layers.size(); ++l) {
      probe.layers[l].input_nnz = block.num_cols() * probe.layers[l].in_features;
    }
  }

  std::vector<double> times;
  const Stopwatch total;
  while (static_cast<int>(times.size()) < kMaxRepeats &&
         (static_cast<int>(times.size()) < kMinRepeats || total.seconds() < kMinSeconds)) {
    const Stopwatch clock;
    model->forward(block, input, 0);
    times.push_back(clock.seconds());
  }
  std::nth_element(times.begin(), times.begin() + static_cast<int64_t>(times.size() / 2), times.end());
  probe.inference_seconds = times[times.size() / 2];
  probe.repeats = static_cast<int>(times.size());
  model->train(training);
  return probe;
}

}  // namespace halo
