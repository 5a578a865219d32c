#include "distributed_support.h"

#include <ATen/Functions.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include "datasets/dataset_source.h"
#include "partition/partition_dir.h"

namespace halo::test {

SharedDir::SharedDir(Communicator& comm) : comm_(comm) {
  std::string path = comm.rank() == 0 ? owned_.emplace().path() : "";
  at::Tensor size = at::tensor({static_cast<int64_t>(path.size())}, at::kLong);
  comm.broadcast(size, 0, "test folder name size");
  at::Tensor bytes = at::zeros({size.item<int64_t>()}, at::kByte);
  if (comm.rank() == 0) std::copy(path.begin(), path.end(), bytes.data_ptr<uint8_t>());
  comm.broadcast(bytes, 0, "test folder name");
  path_.assign(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
}

std::optional<Dataset> partition_for_ranks(Communicator& comm, const std::string& spec, const std::string& dir,
                                           bool normalize) {
  std::optional<Dataset> d;
  if (comm.rank() == 0) {
    const bool real = std::filesystem::exists(dataset_dir(spec));
    d = load_dataset(real ? dataset_dir(spec) : spec);
    write_partition(*d, PartitionOptions().num_parts(comm.size()), dir, spec);
    if (normalize) d->features = row_normalized(d->features);
  }
  comm.barrier("partition written");
  return d;
}

namespace {
ModelFactory builtin(ModelOptions mo) {
  return [mo](int64_t in, int64_t classes) { return Model(ModelOptions(mo).in_features(in).out_features(classes)); };
}
}  // namespace

TrainResult train_parts(const std::shared_ptr<Communicator>& comm, const std::string& dir, const ModelFactory& make,
                        TrainerOptions to, bool normalize, bool resume) {
  const PartitionMeta meta = read_partition_meta(dir);
  Shard shard = load_shard(meta, comm->rank());
  if (normalize) shard.features = row_normalized(shard.features);
  torch::manual_seed(to.seed());
  Model model = make(meta.num_features, meta.num_classes);
  Trainer trainer(shard, comm, model, to.check_replicas(true).progress(false).resume(resume));
  return trainer.train();
}

TrainResult train_parts(const std::shared_ptr<Communicator>& comm, const std::string& dir, ModelOptions mo,
                        TrainerOptions to, bool normalize, bool resume) {
  return train_parts(comm, dir, builtin(std::move(mo)), std::move(to), normalize, resume);
}

TrainResult train_whole(const Dataset& d, const ModelFactory& make, const TrainerOptions& to) {
  torch::manual_seed(to.seed());  // the initial weights of the distributed run's rank 0
  Model model = make(d.num_features(), d.num_classes);
  Trainer trainer(d, model, TrainerOptions(to).progress(false));
  return trainer.train();
}

TrainResult train_whole(const Dataset& d, ModelOptions mo, const TrainerOptions& to) {
  return train_whole(d, builtin(std::move(mo)), to);
}

double mean_gcn_accuracy(const std::shared_ptr<Communicator>& comm, const std::string& dir,
                         const TrainerOptions& options) {
  const ModelOptions gcn = ModelOptions().kind("gcn").hidden(16).dropout(0.5);
  double sum = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const TrainerOptions to = TrainerOptions(options).epochs(200).decay_first_layer_only(true).seed(seed);
    sum += train_parts(comm, dir, gcn, to, true).at_best.test;
  }
  return 100 * sum / 5;
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

}  // namespace halo::test
