// The distributed Trainer against the single-process one (DESIGN rule 2): on K ranks (the
// ctest entries run this binary under mpirun with K = 1, 2, 4), per-epoch losses equal the
// one-process losses within 1e-5 relative and the accuracies are the same, with dropout on.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <optional>
#include <tuple>

#include "comm/communicator.h"
#include "datasets/dataset_source.h"
#include "gcn/trainer.h"
#include "partition/partition_dir.h"
#include "test_support.h"

namespace halo {
namespace {

// Rank 0's scratch folder, named to every rank (they share the filesystem); removed at the end.
class SharedDir {
 public:
  explicit SharedDir(Communicator& comm) : comm_(comm) {
    std::string path = comm.rank() == 0 ? owned_.emplace().path() : "";
    at::Tensor size = at::tensor({static_cast<int64_t>(path.size())}, at::kLong);
    comm.broadcast(size, 0, "test folder name size");
    at::Tensor bytes = at::zeros({size.item<int64_t>()}, at::kByte);
    if (comm.rank() == 0) std::copy(path.begin(), path.end(), bytes.data_ptr<uint8_t>());
    comm.broadcast(bytes, 0, "test folder name");
    path_.assign(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
  }
  ~SharedDir() { comm_.barrier("test folder removal"); }  // nobody reads while rank 0 removes it
  const std::string& path() const { return path_; }

 private:
  Communicator& comm_;
  std::optional<test::TempDir> owned_;
  std::string path_;
};

std::string source(const std::string& name) { return name == "cora" ? test::dataset_dir("cora") : name; }

// Partitions `spec` into as many parts as ranks (rank 0 writes) and returns the folder's rank-0
// copy of the dataset (empty elsewhere).
std::optional<Dataset> partition_for_ranks(Communicator& comm, const std::string& spec, const std::string& dir) {
  std::optional<Dataset> d;
  if (comm.rank() == 0) {
    d = load_dataset(source(spec));
    write_partition(*d, PartitionOptions().num_parts(comm.size()), dir, spec);
  }
  comm.barrier("partition written");
  return d;
}

TrainResult train_parts(const std::shared_ptr<Communicator>& comm, const std::string& dir, ModelOptions mo,
                        TrainerOptions to) {
  const PartitionMeta meta = read_partition_meta(dir);
  const Shard shard = load_shard(meta, comm->rank());
  torch::manual_seed(to.seed());
  Model model(mo.in_features(meta.num_features).out_features(meta.num_classes));
  Trainer trainer(shard, comm, model, to.check_replicas(true).progress(false));
  return trainer.train();
}

TrainResult train_whole(const Dataset& d, ModelOptions mo, const TrainerOptions& to) {
  torch::manual_seed(to.seed());  // the initial weights of the distributed run's rank 0
  Model model(mo.in_features(d.num_features()).out_features(d.num_classes));
  Trainer trainer(d, model, TrainerOptions(to).progress(false));
  return trainer.train();
}

void expect_same_run(const TrainResult& parts, const TrainResult& whole) {
  ASSERT_EQ(parts.epochs.size(), whole.epochs.size());
  for (size_t e = 0; e < whole.epochs.size(); ++e) {
    const EpochMetrics &p = parts.epochs[e], &w = whole.epochs[e];
    EXPECT_NEAR(p.loss, w.loss, 1e-5 * std::abs(w.loss)) << "epoch " << e;
    EXPECT_EQ(p.evaluated, w.evaluated) << "epoch " << e;
    if (p.evaluated) {
      EXPECT_EQ(p.accuracy.train, w.accuracy.train) << "epoch " << e;
      EXPECT_EQ(p.accuracy.val, w.accuracy.val) << "epoch " << e;
      EXPECT_EQ(p.accuracy.test, w.accuracy.test) << "epoch " << e;
    }
  }
  EXPECT_EQ(parts.best_epoch, whole.best_epoch);
}

class Equivalence : public testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Equivalence, KRanksTrainLikeOneProcess) {
  const auto& [spec, kind] = GetParam();
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, spec, dir.path());
  const ModelOptions mo = ModelOptions().kind(kind).hidden(kind == "gat" ? 8 : 16).dropout(0.5);
  const TrainerOptions to = TrainerOptions().epochs(20).eval_every(5).seed(7);
  const TrainResult parts = train_parts(comm, dir.path(), mo, to);
  if (comm->rank() == 0) expect_same_run(parts, train_whole(*d, mo, to));
}

INSTANTIATE_TEST_SUITE_P(Models, Equivalence,
                         testing::Combine(testing::Values("cora", "community:nodes=3000"),
                                          testing::Values("gcn", "sage", "gat")),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param).substr(0, 9) + "_" + std::get<1>(info.param);
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

// Kipf & Welling's Cora setup, 200 epochs: the ranks' result is the one process's, and it is a
// real result (about 81% test accuracy).
TEST(CoraAccuracy, RanksReachTheOneProcessResult) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  std::optional<Dataset> d = partition_for_ranks(*comm, "cora", dir.path());
  const ModelOptions mo = ModelOptions().kind("gcn").hidden(16).dropout(0.5);
  const TrainerOptions to = TrainerOptions().epochs(200).decay_first_layer_only(true).seed(3);
  const PartitionMeta meta = read_partition_meta(dir.path());
  Shard shard = load_shard(meta, comm->rank());
  shard.features = row_normalized(shard.features);
  torch::manual_seed(to.seed());
  Trainer trainer(shard, comm, Model(ModelOptions(mo).in_features(meta.num_features).out_features(meta.num_classes)),
                  TrainerOptions(to).progress(false));
  const TrainResult parts = trainer.train();
  if (comm->rank() == 0) {
    d->features = row_normalized(d->features);
    const TrainResult whole = train_whole(*d, mo, to);
    expect_same_run(parts, whole);
    EXPECT_EQ(parts.at_best.test, whole.at_best.test);
    EXPECT_GT(parts.at_best.test, 0.79);
  }
}

}  // namespace
}  // namespace halo
