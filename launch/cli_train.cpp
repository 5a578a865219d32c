// `halo train`: full-graph training in one process (distributed training runs under mpirun
// on a partition directory).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "datasets/dataset_source.h"
#include "gcn/trainer.h"
#include "launch/cli_common.h"

namespace halo::cli {

void add_train_command(CLI::App& app) {
  struct Args {
    std::string spec, metrics, checkpoint, export_path;
    ModelOptions model;
    TrainerOptions trainer;
    bool normalize_features = false, resume = false, json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("train", "Train a GNN on a whole graph (one process)");
  cmd->add_option("dataset", a.spec, "Dataset: a path, a preset, or a folder name under $HALO_DATA")->required();
  cmd->add_option("--model", a.model.kind(), "Architecture")
      ->check(CLI::IsMember({"gcn", "sage", "gat"}))
      ->option_text("gcn|sage|gat");
  cmd->add_option("--layers", a.model.layers(), "Number of layers")->check(CLI::PositiveNumber);
  cmd->add_option("--hidden", a.model.hidden(), "Hidden features (per head for GAT)")->check(CLI::PositiveNumber);
  cmd->add_option("--heads", a.model.heads(), "GAT attention heads in hidden layers")->check(CLI::PositiveNumber);
  cmd->add_option("--dropout", a.model.dropout(), "Dropout before every layer (and on GAT attention)")
      ->check(CLI::Range(0.0, 0.999));
  cmd->add_flag("--layer-norm", a.model.layer_norm(), "LayerNorm between layers");
  cmd->add_option("--lr", a.trainer.lr(), "Adam learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--weight-decay", a.trainer.weight_decay(), "Adam weight decay (L2)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--decay-first-layer-only", a.trainer.decay_first_layer_only(),
                "Weight decay on the first layer only (Kipf & Welling's GCN setup)");
  cmd->add_option("--epochs", a.trainer.epochs(), "Training epochs")->check(CLI::NonNegativeNumber);
  cmd->add_option("--eval-every", a.trainer.eval_every(), "Evaluate every N epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a.trainer.seed(), "Seed of initialisation and dropout");
  cmd->add_flag("--normalize-features", a.normalize_features, "Row-normalise the input features (Kipf's setup)");
  cmd->add_option("--metrics", a.metrics, "Write one JSON line per epoch to this file");
  cmd->add_option("--checkpoint", a.checkpoint, "Checkpoint directory (written at the end and every N epochs)");
  cmd->add_option("--checkpoint-every", a.trainer.checkpoint_every(), "Checkpoint every N epochs")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--resume", a.resume, "Continue from the checkpoint in --checkpoint");
  cmd->add_option("--export", a.export_path, "Write the trained weights as a dict for Python's torch.load");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
  cmd->callback([] {
    if (a.resume && a.checkpoint.empty()) throw UsageError("--resume needs --checkpoint DIR");
    Dataset d = load_dataset(a.spec);
    if (a.normalize_features) d.features = row_normalized(d.features);
    spdlog::info("{}", describe(d));
    torch::manual_seed(a.trainer.seed());
    Model model(ModelOptions(a.model).in_features(d.num_features()).out_features(d.num_classes));
    Trainer trainer(d, model, TrainerOptions(a.trainer).metrics_path(a.metrics).checkpoint_dir(a.checkpoint));
    if (a.resume) {
      trainer.load_checkpoint(a.checkpoint);
      spdlog::info("resumed from {} at epoch {}", a.checkpoint, trainer.epoch());
    }
    const TrainResult r = trainer.train();
    if (!a.export_path.empty()) export_weights(model, a.export_path);
    double mean_epoch = 0;
    for (const EpochMetrics& m : r.epochs) mean_epoch += m.epoch_seconds / static_cast<double>(r.epochs.size());
    nlohmann::json j = r.to_json();
    j["mean_epoch_seconds"] = mean_epoch;
    emit(a.json, j,
         fmt::format("{} {} x{}: best validation {:.2f}% at epoch {}, test accuracy there {:.2f}% "
                     "(final loss {:.4f}, {:.1f} ms per epoch)\n",
                     d.name, a.model.kind(), a.model.layers(), 100 * r.at_best.val, r.best_epoch, 100 * r.at_best.test,
                     r.epochs.empty() ? 0.0 : r.epochs.back().loss, 1000 * mean_epoch));
  });
}

}  // namespace halo::cli
