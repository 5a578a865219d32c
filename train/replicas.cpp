#include "train/replicas.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <torch/autograd.h>

#include "core/counter_rng.h"
#include "core/error.h"

namespace halo {

void broadcast_weights(Model& model, Communicator& comm) {
  torch::NoGradGuard no_grad;
  for (at::Tensor p : model->parameters()) {
    at::Tensor flat = p.detach().contiguous();
    comm.broadcast(flat, 0, "set-up, initial weights");
    p.detach().copy_(flat);
  }
  for (at::Tensor b : model->buffers()) {
    at::Tensor flat = b.contiguous();
    comm.broadcast(flat, 0, "set-up, initial buffers");
    b.copy_(flat);
  }
}

void check_replicas(const Model& model, Communicator& comm, int64_t epoch) {
  uint64_t hash = 0;
  for (const at::Tensor& p : model->parameters()) {
    const at::Tensor bits = p.detach().cpu().contiguous().view(at::kInt).flatten();
    const int32_t* w = bits.data_ptr<int32_t>();
    for (int64_t i = 0; i < bits.numel(); ++i) hash = mix64(hash ^ static_cast<uint32_t>(w[i]));
  }
  const at::Tensor mine = at::tensor({static_cast<int64_t>(hash)}, at::kLong);
  at::Tensor root = mine.to(comm.device());
  comm.broadcast(root, 0, fmt::format("epoch {}, weight check", epoch));
  root = root.cpu();
  const at::Tensor differing = over_ranks(&comm, at::tensor({static_cast<int64_t>(!root.equal(mine))}, at::kLong),
                                          ReduceOp::sum, fmt::format("epoch {}, weight check", epoch));
  if (differing.item<int64_t>() > 0) {
    throw Error(fmt::format("epoch {}: the weights of {} rank(s) differ from rank 0's after the step{}", epoch,
                            differing.item<int64_t>(),
                            root.equal(mine) ? "" : fmt::format(" (rank {} is one of them)", comm.rank())));
  }
}

}  // namespace halo
