// `halo train`: full-graph training, in one process on a dataset, or under mpirun on a
// partition directory (rank k trains on part k).
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "accel_model/igcn_report.h"
#include "comm/communicator.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/resources.h"
#include "datasets/dataset_source.h"
#include "gcn/export_weights.h"
#include "launch/cli_checks.h"
#include "launch/cli_common.h"
#include "launch/cli_job.h"
#include "partition/partition_dir.h"
#include "train/trainer.h"

namespace halo::cli {
namespace {

// --device cuda: the GPU of this rank's local rank, so the ranks of a node spread over its GPUs.
at::Device chosen_device(const std::string& name, int rank, int local_rank) {
  if (name == "cpu") return at::kCPU;
  const int64_t gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (gpus == 0) {
#ifdef HALO_TORCH_CUDA
    const char* why = "check the driver and CUDA_VISIBLE_DEVICES";
#else
    const char* why = "this Halo was built against a LibTorch without CUDA";
#endif
    throw UsageError(fmt::format("--device cuda: rank {} sees no GPU ({})", rank, why));
  }
  return {at::kCUDA, static_cast<at::DeviceIndex>(local_rank % gpus)};
}

// NCCL when every rank of a node has a GPU of its own; otherwise MPI, staged through host
// memory (the Trainer stages a communicator whose device is not its own).
std::shared_ptr<Communicator> chosen_communicator(std::shared_ptr<Communicator> mpi, const std::string& backend,
                                                  at::Device device) {
  const bool own_gpu = device.is_cuda() && mpi->local_size() <= static_cast<int>(torch::cuda::device_count());
  if (backend == "mpi" || (backend == "auto" && !(own_gpu && nccl_built()))) return mpi;
  if (!own_gpu) {
    throw UsageError(fmt::format("--comm nccl needs --device cuda and a GPU per rank ({} ranks on this host, {} GPUs)",
                                 mpi->local_size(), torch::cuda::device_count()));
  }
  std::shared_ptr<Communicator> nccl = nccl_world(mpi);
  nccl->set_deadline(mpi->deadline());
  return nccl;
}

// Refuses a model whose weights and per-layer activations for `rows` nodes cannot fit in memory,
// naming --hidden, where LibTorch would fail inside an allocation with a trace naming nothing.
void check_model_memory(const ModelOptions& m, int64_t rows, int64_t in_features) {
  const double width = static_cast<double>(m.hidden()) * static_cast<double>(m.kind() == "gat" ? m.heads() : 1);
  const double bytes =
      sizeof(float) * width *
      (static_cast<double>(in_features) + static_cast<double>(m.layers()) * (static_cast<double>(rows) + width));
  const std::string shortfall = memory_shortfall(
      bytes,
      fmt::format("--hidden {} ({} layers on {} nodes of {} features)", m.hidden(), m.layers(), rows, in_features));
  if (!shortfall.empty()) throw UsageError(shortfall);
}

}  // namespace

void add_train_command(CLI::App& app, const BlasReport& blas) {
  struct Args {
    std::string spec, parts, metrics, checkpoint, export_path, device = "cpu", comm = "auto";
    double deadline = 600;
    std::vector<int64_t> stall;  // rank, epoch
    ModelOptions model;
    TrainerOptions trainer;
    bool normalize_features = false, resume = false, overwrite = false, json = false, check_replicas = false,
         pipeline = false, no_progress_thread = false, precompute = false, no_precompute = false;
    StaleOptions stale;
    std::string precision = "fp32";
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand("train", "Train a GNN on a whole graph: one process, or mpirun on a partition");
  // Defaults are kept as text so that the resolved configuration can list them (json_config.h).
  cmd->option_defaults()->always_capture_default();
  auto* dataset = cmd->add_option("dataset", a.spec, "Dataset: a path, a preset, or a folder name under $HALO_DATA");
  auto* parts = cmd->add_option("--parts", a.parts,
                                "Partition directory (halo partition): under `mpirun -np K`, rank k trains on part k");
  dataset->excludes(parts);
  cmd->add_option("--device", a.device,
                  "Where tensors and kernels live: cpu, or cuda (the GPU of each rank's local rank)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--comm", a.comm,
                  "Backend between ranks: auto (NCCL with a GPU per rank, else MPI), mpi (GPU tensors staged "
                  "through host memory), nccl")
      ->check(CLI::IsMember({"auto", "mpi", "nccl"}));
  number_in(cmd->add_option("--deadline", a.deadline, "Seconds a rank waits for a peer before failing the job"), 0.001,
            1e6);
  cmd->add_flag("--check-replicas", a.check_replicas, "Check after every step that all ranks hold the same weights");
  number_in(
      cmd->add_option("--boundary-rate", a.trainer.boundary_rate(),
                      "BNS-GCN: share p of its boundary nodes an owner sends each peer per epoch (1: all, 0: none)"),
      0, 1)
      ->needs(parts);
  auto* pipeline =
      cmd->add_flag("--pipeline", a.pipeline,
                    "PipeGCN: compute with one-epoch-stale halo rows and gradients while this epoch's travel");
  pipeline->needs(parts);
  cmd->add_flag("--overlap", a.trainer.overlap(),
                "Exact halo rows, overlapped: each layer computes its inner part while its halo rows travel")
      ->needs(parts)
      ->excludes(pipeline);
  cmd->add_option("--halo-precision", a.precision,
                  "How halo rows and gradients travel in training: fp32, bf16, fp16, or int8 (a scale per row, "
                  "stochastic rounding); evaluation stays exact")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16", "int8"}))
      ->needs(parts);
  cmd->add_flag("--smooth-features", a.stale.smooth_features(), "Pipeline: moving average of the stale halo rows")
      ->needs(pipeline);
  cmd->add_flag("--smooth-gradients", a.stale.smooth_gradients(), "Pipeline: moving average of the stale gradients")
      ->needs(pipeline);
  number_in(cmd->add_option("--smoothing-gamma", a.stale.gamma(), "Pipeline: decay of the moving averages"), 0,
            0.999999)
      ->needs(pipeline);
  cmd->add_flag("--no-progress-thread", a.no_progress_thread,
                "Pipeline: move messages only between layers, not from a progress thread")
      ->needs(pipeline);
  whole_in(cmd->add_option("--inject-stall", a.stall, "Testing failure handling: rank R stops answering at epoch E"), 0,
           kMaxCount)
      ->expected(2)
      ->delimiter(':')
      ->option_text("R:E")
      ->group("Testing");
  cmd->add_option("--model", a.model.kind(), "Architecture")
      ->check(CLI::IsMember({"gcn", "sage", "gat"}))
      ->option_text("gcn|sage|gat");
  whole_in(cmd->add_option("--layers", a.model.layers(), "Number of layers"), 1, 1000);
  // Sizes far beyond memory are refused before the model is built (check_model_memory).
  whole_in(cmd->add_option("--hidden", a.model.hidden(), "Hidden features (per head for GAT)"), 1, kMaxCount);
  whole_in(cmd->add_option("--heads", a.model.heads(), "GAT attention heads in hidden layers"), 1, 1000);
  number_in(cmd->add_option("--dropout", a.model.dropout(), "Dropout before every layer (and on GAT attention)"), 0,
            0.999);
  cmd->add_flag("--layer-norm", a.model.layer_norm(), "LayerNorm between layers");
  // DESIGN rule 4; TrainerOptions::precompute_input says when the default turns it on.
  auto* precompute = cmd->add_flag("--precompute-input", a.precompute,
                                   "Aggregate the input features for the first layer once, at set-up (the default for "
                                   "GCN and SAGE on dense features); dropout applies to the aggregate");
  cmd->add_flag("--no-precompute-input", a.no_precompute, "Aggregate the input features in every epoch")
      ->excludes(precompute);
  number_in(cmd->add_option("--lr", a.trainer.lr(), "Adam learning rate"), 1e-12, 1e30);
  number_in(cmd->add_option("--weight-decay", a.trainer.weight_decay(), "Adam weight decay (L2)"), 0, 1e30);
  cmd->add_flag("--decay-first-layer-only", a.trainer.decay_first_layer_only(),
                "Weight decay on the first layer only (Kipf & Welling's GCN setup)");
  whole_in(cmd->add_option("--epochs", a.trainer.epochs(), "Training epochs"), 0, kMaxCount);
  whole_in(cmd->add_option("--eval-every", a.trainer.eval_every(), "Evaluate every N epochs"), 1, kMaxCount);
  whole_in(cmd->add_option("--seed", a.trainer.seed(), "Seed of initialisation and dropout"), 0, UINT64_MAX);
  cmd->add_flag("--normalize-features", a.normalize_features, "Row-normalise the input features (Kipf's setup)");
  cmd->add_option("--metrics", a.metrics,
                  "Write one JSON line per epoch to this file, and the resolved options beside it (NAME.config.json)");
  cmd->add_option("--checkpoint", a.checkpoint, "Checkpoint directory (written at the end and every N epochs)");
  whole_in(cmd->add_option("--checkpoint-every", a.trainer.checkpoint_every(), "Checkpoint every N epochs"), 0,
           kMaxCount);
  auto* resume = cmd->add_flag("--resume", a.resume,
                               "Continue from the checkpoint in --checkpoint, appending to --metrics after its epochs");
  cmd->add_flag("--overwrite", a.overwrite,
                "Start afresh in a --checkpoint folder that holds a checkpoint (deleted once the new one is written)")
      ->excludes(resume);
  cmd->add_option("--export", a.export_path, "Write the trained weights as a dict for Python's torch.load");
  cmd->add_flag("--json", a.json, "Print the result as one JSON object");
  cmd->callback([cmd, &blas] {
    if (a.spec.empty() == a.parts.empty()) throw UsageError("train: give a dataset, or --parts DIR under mpirun");
    if ((a.resume || a.overwrite) && a.checkpoint.empty()) {
      throw UsageError(fmt::format("{} needs --checkpoint DIR", a.resume ? "--resume" : "--overwrite"));
    }
    // Outputs that would be refused at the end are refused before the first epoch.
    if (!a.export_path.empty()) check_output_path(a.export_path, "--export");
    TrainerOptions options = TrainerOptions(a.trainer)
                                 .metrics_path(a.metrics)
                                 .checkpoint_dir(a.checkpoint)
                                 .resume(a.resume)
                                 .overwrite(a.overwrite)
                                 .check_replicas(a.check_replicas);
    options.halo_precision(parse_halo_precision(a.precision));
    if (a.pipeline) options.pipeline(StaleOptions(a.stale).progress_thread(!a.no_progress_thread));
    if (a.precompute || a.no_precompute) options.precompute_input(a.precompute);
    options.run_info({{"blas", blas.to_json()}});
    std::unique_ptr<Trainer> trainer;
    std::string name;
    TrainedEstimate igcn;  // the I-GCN accelerator estimate printed at the end (accel_model/)
    if (a.parts.empty()) {
      if (a.comm == "nccl") throw UsageError("--comm nccl needs a distributed run (--parts DIR under mpirun)");
      options.device(chosen_device(a.device, 0, 0));
      const auto load = [spec = a.spec, normalize = a.normalize_features] {
        Dataset d = load_dataset(spec);
        if (normalize) d.features = row_normalized(d.features);
        return d;
      };
      const Dataset d = load();
      spdlog::info("{}", describe(d));
      name = d.name;
      check_model_memory(a.model, d.num_nodes(), d.num_features());
      torch::manual_seed(a.trainer.seed());
      Model model(ModelOptions(a.model).in_features(d.num_features()).out_features(d.num_classes));
      trainer = std::make_unique<Trainer>(d, model, options);
      igcn = igcn_after_training(load, model);
    } else {
      std::shared_ptr<Communicator> comm = job_world(a.deadline);
      const PartitionMeta meta = job_partition(a.parts, *comm, "train");
      if (!a.stall.empty() && a.stall[0] == comm->rank()) {
        options.before_epoch([](int64_t epoch) {
          while (epoch == a.stall[1]) std::this_thread::sleep_for(std::chrono::hours(1));
        });
      }
      options.device(chosen_device(a.device, comm->rank(), comm->local_rank()));
      comm = chosen_communicator(comm, a.comm, options.device());
      Shard shard = load_shard(meta, comm->rank());
      if (a.normalize_features) shard.features = row_normalized(shard.features);
      spdlog::info("{}: {} ranks on {} ({} backend, {} threads each), deadline {} s", a.parts, comm->size(), a.device,
                   comm->backend(), at::get_num_threads(), a.deadline);
      name = meta.dataset;
      check_model_memory(a.model, shard.features.size(0), meta.num_features);
      torch::manual_seed(a.trainer.seed());
      Model model(ModelOptions(a.model).in_features(meta.num_features).out_features(meta.num_classes));
      trainer = std::make_unique<Trainer>(shard, comm, model, options);
      igcn = igcn_after_training(
          meta, comm->rank(),
          [normalize = a.normalize_features](Dataset& d) {
            if (normalize) d.features = row_normalized(d.features);
          },
          model);
    }
    if (trainer->leader() && !a.metrics.empty()) {
      // Every option of the run, given or default: `halo train --config` with it repeats the run.
      write_file_atomically(std::filesystem::path(a.metrics).replace_extension(".config.json").string(),
                            cmd->config_to_str(true));
    }
    if (a.resume) spdlog::info("resumed from {} at epoch {}", a.checkpoint, trainer->epoch());
    const TrainResult r = trainer->train();
    if (!trainer->leader()) return;
    if (!a.export_path.empty()) export_weights(trainer->model(), a.export_path);
    double mean_epoch = 0;
    for (const EpochMetrics& m : r.epochs) mean_epoch += m.epoch_spread.max / static_cast<double>(r.epochs.size());
    nlohmann::json j = r.to_json();
    j["mean_epoch_seconds"] = mean_epoch;
    j["ranks"] = r.epochs.empty() ? 1 : r.epochs.front().ranks;
    j["blas"] = blas.to_json();
    Model trained = trainer->model();
    trainer.reset();        // frees the training's Block and inputs before the estimate builds its own
    trained->to(at::kCPU);  // the estimate times inference on the CPU
    const IgcnReport estimate = igcn(trained);
    j["igcn"] = estimate.json;
    emit(a.json, j,
         fmt::format("{} {} x{}: best validation {:.2f}% at epoch {}, test accuracy there {:.2f}% "
                     "(final loss {:.4f}, {:.1f} ms per epoch)\n",
                     name, a.model.kind(), a.model.layers(), 100 * r.at_best.val, r.best_epoch, 100 * r.at_best.test,
                     r.epochs.empty() ? 0.0 : r.epochs.back().loss, 1000 * mean_epoch) +
             estimate.text);
  });
}

}  // namespace halo::cli
