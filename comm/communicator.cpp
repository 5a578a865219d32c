// What both backends share: the polling backoff, the deadline text and over_ranks; and the NCCL
// entry points of a build without NCCL.
#include "comm/communicator.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "comm/mpi_communicator.h"
#include "core/error.h"

namespace halo {
namespace detail {

void Backoff::pause() {
  ++polls_;
  if (polls_ <= 32) return;  // spin: a message in flight usually lands within microseconds
  if (polls_ <= 64) {
    std::this_thread::yield();
    return;
  }
  std::this_thread::sleep_for(sleep_);
  sleep_ = std::min(sleep_ * 2, std::chrono::microseconds(1000));
}

std::string seconds_text(std::chrono::milliseconds d) { return fmt::format("{:g}", d.count() / 1000.0); }

}  // namespace detail

at::Tensor over_ranks(Communicator* comm, const at::Tensor& t, ReduceOp op, const std::string& what) {
  if (!comm) return t;
  at::Tensor on_device = t.to(comm->device());
  comm->allreduce(on_device, op, what);
  return on_device.cpu();
}

#ifndef HALO_WITH_NCCL
std::shared_ptr<Communicator> nccl_world(const std::shared_ptr<Communicator>&) {
  throw Error("this Halo was built without NCCL: rebuild against a CUDA LibTorch with NCCL installed");
}
bool nccl_built() { return false; }
#endif

}  // namespace halo
