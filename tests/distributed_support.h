#pragma once
// Shared pieces of the multi-rank tests (halo_mpi_tests): a scratch folder every rank sees, a
// partition into one part per rank, training on the parts or on the whole graph, and comparing
// two runs epoch by epoch.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "comm/communicator.h"
#include "datasets/dataset.h"
#include "test_support.h"
#include "train/trainer.h"

namespace halo::test {

// Rank 0's scratch folder, named to every rank (they share the filesystem); removed at the end.
class SharedDir {
 public:
  explicit SharedDir(Communicator& comm);
  ~SharedDir() { comm_.barrier("test folder removal"); }  // nobody reads while rank 0 removes it
  const std::string& path() const { return path_; }

 private:
  Communicator& comm_;
  std::optional<TempDir> owned_;
  std::string path_;
};

// `spec` is a preset or the name of a real dataset (cora, coauthor-cs, ...). Partitions it with
// METIS into as many parts as ranks (rank 0 writes) and returns rank 0's copy of the dataset
// (empty elsewhere); `normalize` row-normalises the features first (Kipf's setup).
std::optional<Dataset> partition_for_ranks(Communicator& comm, const std::string& spec, const std::string& dir,
                                           bool normalize = false);

// A model for `in_features` inputs and `classes` outputs (its weights drawn from LibTorch's generator).
using ModelFactory = std::function<Model(int64_t in_features, int64_t classes)>;

// Trains on this rank's part of `dir` (from rank 0's initial weights, seeded by to.seed()),
// checking after every step that the ranks hold the same weights; `resume` continues from the
// checkpoint in to.checkpoint_dir().
TrainResult train_parts(const std::shared_ptr<Communicator>& comm, const std::string& dir, const ModelFactory& make,
                        TrainerOptions to, bool normalize = false, bool resume = false);
TrainResult train_parts(const std::shared_ptr<Communicator>& comm, const std::string& dir, ModelOptions mo,
                        TrainerOptions to, bool normalize = false, bool resume = false);
// The same model trained in one process on the whole of `d`.
TrainResult train_whole(const Dataset& d, const ModelFactory& make, const TrainerOptions& to);
TrainResult train_whole(const Dataset& d, ModelOptions mo, const TrainerOptions& to);

// Kipf & Welling's GCN setup (hidden 16, dropout 0.5, 200 epochs, row-normalised features, decay
// on the first layer) on the parts of `dir`, with `options` on top: the mean test accuracy (%,
// at the best validation epoch) over seeds 0..4.
double mean_gcn_accuracy(const std::shared_ptr<Communicator>& comm, const std::string& dir,
                         const TrainerOptions& options);

// Kipf's GCN layers (hidden 16, dropout 0.5).
inline const ModelOptions kGcn = ModelOptions().kind("gcn").hidden(16).dropout(0.5);

// Per-epoch losses within 1e-5 relative, the same accuracies and best epoch.
void expect_same_run(const TrainResult& parts, const TrainResult& whole);

}  // namespace halo::test
