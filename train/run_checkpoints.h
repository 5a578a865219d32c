#pragma once
// A training run's checkpoints (gcn/checkpoint.h's folder format): the weights, Adam's state, the
// HaloSync's messages in flight and the run's progress, so that a resumed run, pipelined or not,
// continues bit for bit. Written to temporary names and renamed, state.json (the manifest, with
// every file's size and checksum) last, so a folder with state.json is complete; the checkpoint
// it replaces is deleted after. Distributed, rank 0 writes the weights (the same on every rank)
// and each rank its strategy's state; every rank reads.
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>

#include "comm/communicator.h"
#include "gcn/checkpoint.h"
#include "gcn/model.h"
#include "train/epoch_metrics.h"
#include "train/halo_sync.h"

namespace halo {

// What a checkpoint holds, by reference into the Trainer.
struct RunState {
  Model& model;
  torch::optim::Optimizer& optimizer;
  HaloSync& sync;
  int64_t& epoch;  // epochs done
  TrainResult& result;
};

class RunCheckpoints {
 public:
  // dir: where save() writes (empty: nowhere). The leader claims it now (CheckpointFolder), so an
  // unusable, busy or occupied folder fails before any training. comm: null in one process.
  RunCheckpoints(const std::string& dir, uint64_t seed, bool resume, bool overwrite, Communicator* comm);

  // Collective.
  void save(const RunState& run);
  // Collective; throws Error naming the file when dir's checkpoint does not fit this run.
  void load(const std::string& dir, const RunState& run);

 private:
  bool leader() const { return !comm_ || comm_->rank() == 0; }
  std::string dir_;
  uint64_t seed_;
  Communicator* comm_;
  std::unique_ptr<CheckpointFolder> folder_;  // the leader's claim on dir_
};

}  // namespace halo
