// Training off the CPU kernels (DESIGN rule 2 on any device). Where no GPU is, the GPU path's
// parts run on the CPU: graph ops as LibTorch ops (TorchOpsOnCpu) and every message staged
// through separate host buffers (staged()), as ranks on a GPU without NCCL run them. On a GPU
// machine, ranks on their local rank's GPU train like one CPU process, through MPI staging and
// through NCCL. The ctest entries run this binary under mpirun with K = 1, 2, 4.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <optional>
#include <string>

#include "distributed_support.h"
#include "gcn/graph_ops.h"

namespace halo {
namespace {

using test::expect_same_run;
using test::partition_for_ranks;
using test::SharedDir;
using test::train_parts;
using test::train_whole;

const char* const kGraph = "community:nodes=3000";

ModelOptions model(const std::string& kind) {
  return ModelOptions().kind(kind).hidden(kind == "gat" ? 8 : 16).dropout(0.5);
}

// K staged ranks on the LibTorch ops train like one process on them, and it like the kernels.
TEST(DevicePath, StagedRanksWithLibTorchOpsTrainLikeOneProcess) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, kGraph, dir.path());
  const TrainerOptions to = TrainerOptions().epochs(10).eval_every(5).seed(7);
  for (const std::string kind : {"gcn", "gat"}) {
    SCOPED_TRACE(kind);
    const std::optional<TrainResult> kernels =
        comm->rank() == 0 ? std::optional(train_whole(*d, model(kind), to)) : std::nullopt;
    TorchOpsOnCpu path;
    const TrainResult parts = train_parts(staged(comm, at::kCPU), dir.path(), model(kind), to);
    if (comm->rank() > 0) continue;
    const TrainResult whole = train_whole(*d, model(kind), to);
    expect_same_run(parts, whole);
    expect_same_run(whole, *kernels);
  }
}

// Boundary sampling and the pipeline (both smoothings) on that path: the losses and accuracies
// of the kernels on MPI directly.
TEST(DevicePath, SampledPipelinedRanksMatchTheKernels) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  partition_for_ranks(*comm, kGraph, dir.path());
  const TrainerOptions to = TrainerOptions().epochs(10).eval_every(5).seed(7).boundary_rate(0.5).pipeline(
      StaleOptions().smooth_features(true).smooth_gradients(true));
  const TrainResult kernels = train_parts(comm, dir.path(), model("gcn"), to);
  TorchOpsOnCpu path;
  const TrainResult torch_ops = train_parts(staged(comm, at::kCPU), dir.path(), model("gcn"), to);
  if (comm->rank() == 0) expect_same_run(torch_ops, kernels);
}

// On a GPU machine: every rank on its local rank's GPU, through MPI staging and (when built, with
// a GPU per rank) NCCL, trains like one CPU process.
TEST(DevicePath, GpuRanksTrainLikeOneCpuProcess) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible";
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, kGraph, dir.path());
  const int gpus = static_cast<int>(torch::cuda::device_count());
  const TrainerOptions to = TrainerOptions().epochs(10).eval_every(5).seed(7);
  const TrainerOptions on_gpu =
      TrainerOptions(to).device(at::Device(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank() % gpus)));
  const std::shared_ptr<Communicator> nccl = nccl_built() && comm->local_size() <= gpus ? nccl_world(comm) : nullptr;
  for (const std::string kind : {"gcn", "gat"}) {
    SCOPED_TRACE(kind);
    const std::optional<TrainResult> cpu =
        comm->rank() == 0 ? std::optional(train_whole(*d, model(kind), to)) : std::nullopt;
    const TrainResult staged_run = train_parts(comm, dir.path(), model(kind), on_gpu);
    if (comm->rank() == 0) expect_same_run(staged_run, *cpu);
    if (!nccl) continue;
    const TrainResult nccl_run = train_parts(nccl, dir.path(), model(kind), on_gpu);
    if (comm->rank() == 0) expect_same_run(nccl_run, *cpu);
  }
}

}  // namespace
}  // namespace halo
