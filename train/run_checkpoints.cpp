#include "train/run_checkpoints.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/serialize.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

std::string pipeline_file(int rank) { return fmt::format("pipeline-{}.pt", rank); }

}  // namespace

RunCheckpoints::RunCheckpoints(const std::string& dir, uint64_t seed, bool resume, bool overwrite, Communicator* comm)
    : dir_(dir), seed_(seed), comm_(comm) {
  if (!dir_.empty() && leader()) folder_ = std::make_unique<CheckpointFolder>(dir_, resume, overwrite);
}

void RunCheckpoints::save(const RunState& run) {
  const fs::path folder = fs::path(dir_) / checkpoint_folder(run.epoch);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("cannot create checkpoint folder {}: {}", folder.string(), ec.message()));
  // The pipeline's rows and gradients in flight differ per rank: each rank writes its own, and
  // rank 0 learns every file's size and checksum for the manifest (rows: ranks; the sum of rows
  // that one rank each fills gathers them, and waits for every file to be written).
  const int ranks = comm_ ? comm_->size() : 1;
  at::Tensor pipeline_digests = at::zeros({ranks, 2}, at::kLong);
  if (run.sync.has_state()) {
    const std::vector<char> bytes = torch::jit::pickle_save(run.sync.checkpoint_state());
    const FileDigest d = write_file_atomically((folder / pipeline_file(comm_->rank())).string(),
                                               std::string(bytes.begin(), bytes.end()));
    pipeline_digests[comm_->rank()][0] = static_cast<int64_t>(d.bytes);
    pipeline_digests[comm_->rank()][1] = static_cast<int64_t>(d.crc32);
  }
  pipeline_digests = over_ranks(comm_, pipeline_digests, ReduceOp::sum, fmt::format("epoch {}, checkpoint", run.epoch));
  if (!leader()) {
    comm_->barrier(fmt::format("epoch {}, checkpoint", run.epoch));
    return;
  }
  CheckpointState state;
  state.epoch = run.epoch;
  state.seed = seed_;
  state.ranks = ranks;
  state.pipeline = run.sync.has_state();
  state.best_epoch = run.result.best_epoch;
  state.best_train = run.result.at_best.train;
  state.best_val = run.result.at_best.val;
  state.best_test = run.result.at_best.test;
  for (int r = 0; state.pipeline && r < ranks; ++r) {
    state.files[pipeline_file(r)] = {static_cast<uint64_t>(pipeline_digests[r][0].item<int64_t>()),
                                     static_cast<uint32_t>(pipeline_digests[r][1].item<int64_t>())};
  }
  // Through memory and write_file_atomically, which checks that every byte reached the disk:
  // torch::save to a path says nothing when the disk is full.
  const auto save = [&](const auto& what, const char* file) {
    std::ostringstream bytes;
    torch::save(what, bytes);
    state.files[file] = write_file_atomically((folder / file).string(), bytes.str());
  };
  save(run.model, "model.pt");
  save(run.optimizer, "optimizer.pt");
  write_checkpoint_state(dir_, state);
  // Only now is the previous checkpoint (this run's, or the one it resumed or overwrote) no
  // longer needed; of it, only the files its manifest lists are deleted.
  if (folder_->previous && folder_->previous->epoch != run.epoch) {
    remove_checkpoint_files(dir_, *folder_->previous);
  }
  folder_->previous = state;
  if (comm_) comm_->barrier(fmt::format("epoch {}, checkpoint", run.epoch));
}

void RunCheckpoints::load(const std::string& dir, const RunState& run) {
  const CheckpointState state = read_checkpoint_state(dir);
  const std::string manifest = (fs::path(dir) / "state.json").string();
  if (state.seed != seed_) {
    throw Error(fmt::format("{}: written with seed {}, this run uses seed {}", manifest, state.seed, seed_));
  }
  // A file is parsed only after its size and checksum matched; what still fails to load was
  // written for another architecture.
  const auto load = [&](auto& into, const std::string& file) {
    std::istringstream bytes(read_checkpoint_file(dir, state, file));
    try {
      torch::load(into, bytes);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: checkpoint does not fit this model: {}",
                              (fs::path(dir) / checkpoint_folder(state.epoch) / file).string(),
                              e.what_without_backtrace()));
    }
  };
  // torch::load() silently re-shapes parameters, so a different architecture is caught here.
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : run.model->named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  load(run.model, "model.pt");
  for (const auto& [name, shape] : shapes) {
    const auto loaded = run.model->named_parameters()[name].sizes().vec();
    if (loaded != shape) {
      throw Error(fmt::format("{}: checkpoint does not fit this model: '{}' is [{}] there, [{}] here", dir, name,
                              fmt::join(loaded, ", "), fmt::join(shape, ", ")));
    }
  }
  load(run.optimizer, "optimizer.pt");
  // A checkpoint without pipeline state (or a run without the pipeline) starts it afresh, with
  // one synchronous epoch.
  if (run.sync.has_state() && state.pipeline) {
    if (state.ranks != comm_->size()) {
      throw Error(fmt::format("{}: pipeline state of {} ranks, this job has {}", manifest, state.ranks, comm_->size()));
    }
    const std::string file = pipeline_file(comm_->rank());
    const std::string bytes = read_checkpoint_file(dir, state, file);
    const std::string path = (fs::path(dir) / checkpoint_folder(state.epoch) / file).string();
    try {
      const c10::IValue value = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
      if (!value.isGenericDict()) throw Error("not a dictionary of tensors");
      c10::Dict<std::string, at::Tensor> parts;
      for (const auto& item : value.toGenericDict()) parts.insert(item.key().toStringRef(), item.value().toTensor());
      run.sync.restore(parts);
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{}: not this job's pipeline state: {}", path, e.what_without_backtrace()));
    } catch (const Error& e) {
      throw Error(fmt::format("{}: not this job's pipeline state: {}", path, e.what()));
    }
  }
  run.epoch = state.epoch;
  run.result.best_epoch = state.best_epoch;
  run.result.at_best = {state.best_train, state.best_val, state.best_test};
  if (folder_ && dir == folder_->dir()) folder_->previous = state;
}

}  // namespace halo
