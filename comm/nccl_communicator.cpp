// The NCCL backend: one GPU per rank, picked by local rank. Built only against a CUDA LibTorch
// (or with HALO_NCCL=COMPILE_CHECK); it uses the CUDA runtime and NCCL directly, no c10/cuda.
//
// Ordering with LibTorch. Halo runs its tensor work on LibTorch's default stream, the legacy
// default (NULL) stream. NCCL runs on this communicator's own non-blocking stream, so it
// overlaps with that work instead of serialising with it. What keeps the data right:
//  - inputs: each operation first makes the NCCL stream wait for an event recorded on the NULL
//    stream, so every kernel launched before the call (the ones writing the inputs) is done;
//  - outputs: wait() blocks the host until the operation's end event, after which work on any
//    stream sees the results. Buffers stay referenced until then, so the caching allocator
//    cannot hand them out while NCCL still uses them.
// A caller that makes another stream current (CUDAStreamGuard) must synchronise it first.
// NCCL matches messages by issue order, not by tag: every rank starts its exchanges in the same
// order (tags are still checked, to keep both backends' contract).
#include <ATen/ATen.h>
#include <cuda_runtime.h>
#include <fmt/format.h>
#include <nccl.h>

#include <mutex>

#include "comm/communicator.h"
#include "comm/mpi_communicator.h"
#include "core/error.h"

namespace halo {
namespace {

class NcclCommunicator final : public Communicator, public std::enable_shared_from_this<NcclCommunicator> {
 public:
  explicit NcclCommunicator(const std::shared_ptr<Communicator>& bootstrap);
  ~NcclCommunicator() override;

  std::string backend() const override { return "nccl"; }
  bool thread_safe() const override { return true; }  // testing only queries CUDA events
  at::Device device() const override { return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(device_)); }

  void barrier(const std::string& what) override;
  void allreduce(at::Tensor& t, ReduceOp op, const std::string& what) override;
  void broadcast(at::Tensor& t, int root, const std::string& what) override;
  std::unique_ptr<Transfer> start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv, int tag,
                                           const std::string& what) override;

  // Polls `done` until it has happened; past the deadline (or on an NCCL error) aborts the
  // communicator and throws "rank R: NCCL OP did not finish within S s (WHAT)".
  void wait_event(cudaEvent_t done, const char* op, const std::string& what);
  // An operation given up on: its buffers stay alive until `done`.
  void abandon(cudaEvent_t done, std::vector<at::Tensor> keep);

 private:
  void check_cuda(cudaError_t rc, const char* call, const std::string& what) const;
  void check_nccl(ncclResult_t rc, const char* call, const std::string& what) const;
  void check_tensor(const at::Tensor& t, const std::string& name, const std::string& what) const;
  // Makes the device current (per host thread), and the NCCL stream wait for the NULL stream.
  void start(const std::string& what);
  // Records the end of the operations just issued.
  cudaEvent_t record_end(const std::string& what);
  void finish(const char* op, const std::string& what);
  void reap_abandoned();

  int device_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t inputs_ready_ = nullptr;
  int* scratch_ = nullptr;  // one int, for the barrier's allreduce
  bool aborted_ = false;
  std::mutex abandoned_mutex_;
  std::vector<std::pair<cudaEvent_t, std::vector<at::Tensor>>> abandoned_;
};

class NcclTransfer final : public Transfer {
 public:
  NcclTransfer(std::shared_ptr<NcclCommunicator> comm, cudaEvent_t done, std::vector<at::Tensor> keep, std::string what)
      : comm_(std::move(comm)), done_(done), keep_(std::move(keep)), what_(std::move(what)) {}
  ~NcclTransfer() override {
    if (done_ != nullptr) comm_->abandon(done_, std::move(keep_));
  }
  void wait() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ == nullptr) return;
    comm_->wait_event(done_, "exchange", what_);
    release();
  }

  // The GPU moves NCCL's messages by itself: testing only asks whether it has finished.
  bool test() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ != nullptr && cudaEventQuery(done_) == cudaSuccess) release();
    return done_ == nullptr;
  }

 private:
  void release() {
    mark_done();
    cudaEventDestroy(done_);
    done_ = nullptr;
    keep_.clear();
  }

  std::shared_ptr<NcclCommunicator> comm_;
  cudaEvent_t done_;
  std::vector<at::Tensor> keep_;
  std::string what_;
  std::mutex mutex_;
};

ncclDataType_t nccl_type(const at::Tensor& t, int rank, const std::string& what) {
  switch (t.scalar_type()) {
    case at::kFloat:
      return ncclFloat32;
    case at::kDouble:
      return ncclFloat64;
    case at::kLong:
      return ncclInt64;
    case at::kInt:
      return ncclInt32;
    default:
      throw Error(fmt::format("rank {}: allreduce supports float32, float64, int32 and int64 tensors, got {} ({})",
                              rank, c10::toString(t.scalar_type()), what));
  }
}

// ncclInProgress (NCCL >= 2.14) means still working, not failed.
bool nccl_failed(ncclResult_t state) {
#if NCCL_VERSION_CODE >= 21400
  return state != ncclSuccess && state != ncclInProgress;
#else
  return state != ncclSuccess;
#endif
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return ncclSum;
    case ReduceOp::max:
      return ncclMax;
    case ReduceOp::min:
      return ncclMin;
  }
  return ncclSum;
}

NcclCommunicator::NcclCommunicator(const std::shared_ptr<Communicator>& bootstrap) {
  rank_ = bootstrap->rank();
  size_ = bootstrap->size();
  local_rank_ = bootstrap->local_rank();
  local_size_ = bootstrap->local_size();
  deadline_ = bootstrap->deadline();
  const std::string what = "starting NCCL";
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount", what);
  if (count == 0) throw Error(fmt::format("rank {}: the NCCL backend needs a GPU and this host has none", rank_));
  device_ = local_rank_ % count;
  check_cuda(cudaSetDevice(device_), "cudaSetDevice", what);
  ncclUniqueId id{};
  if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", what);
  at::Tensor id_bytes = at::from_blob(&id, {static_cast<int64_t>(sizeof id)}, at::kByte);
  bootstrap->broadcast(id_bytes, 0, "the NCCL unique id");
  check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank", what);
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags", what);
  check_cuda(cudaEventCreateWithFlags(&inputs_ready_, cudaEventDisableTiming), "cudaEventCreateWithFlags", what);
  check_cuda(cudaMalloc(&scratch_, sizeof(int)), "cudaMalloc", what);
}

NcclCommunicator::~NcclCommunicator() {
  cudaSetDevice(device_);
  reap_abandoned();
  // Operations still pending would make a clean destroy wait for peers that may be gone.
  if (!aborted_ && abandoned_.empty()) {
    ncclCommDestroy(comm_);
  } else if (!aborted_) {
    ncclCommAbort(comm_);
  }
  for (auto& [event, keep] : abandoned_) cudaEventDestroy(event);
  cudaFree(scratch_);
  cudaEventDestroy(inputs_ready_);
  cudaStreamDestroy(stream_);
}

void NcclCommunicator::check_cuda(cudaError_t rc, const char* call, const std::string& what) const {
  if (rc != cudaSuccess)
    throw Error(fmt::format("rank {}: {} failed: {} ({})", rank_, call, cudaGetErrorString(rc), what));
}

void NcclCommunicator::check_nccl(ncclResult_t rc, const char* call, const std::string& what) const {
  if (rc != ncclSuccess)
    throw Error(fmt::format("rank {}: {} failed: {} ({})", rank_, call, ncclGetErrorString(rc), what));
}

void NcclCommunicator::check_tensor(const at::Tensor& t, const std::string& name, const std::string& what) const {
  if (!t.defined()) throw Error(fmt::format("rank {}: {} is undefined ({})", rank_, name, what));
  if (t.device() != device() || !t.is_contiguous()) {
    throw Error(
        fmt::format("rank {}: {} must be a contiguous tensor on {} for the NCCL backend, got a {}{} tensor ({})", rank_,
                    name, device().str(), t.is_contiguous() ? "" : "non-contiguous ", t.device().str(), what));
  }
}

void NcclCommunicator::start(const std::string& what) {
  if (aborted_) {
    throw Error(fmt::format("rank {}: the NCCL communicator was aborted after an earlier error ({})", rank_, what));
  }
  check_cuda(cudaSetDevice(device_), "cudaSetDevice", what);
  reap_abandoned();
  check_cuda(cudaEventRecord(inputs_ready_, cudaStreamLegacy), "cudaEventRecord", what);
  check_cuda(cudaStreamWaitEvent(stream_, inputs_ready_, 0), "cudaStreamWaitEvent", what);
}

cudaEvent_t NcclCommunicator::record_end(const std::string& what) {
  cudaEvent_t done = nullptr;
  check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreateWithFlags", what);
  check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord", what);
  return done;
}

void NcclCommunicator::finish(const char* op, const std::string& what) {
  cudaEvent_t done = record_end(what);
  try {
    wait_event(done, op, what);
  } catch (...) {
    cudaEventDestroy(done);
    throw;
  }
  cudaEventDestroy(done);
}

void NcclCommunicator::wait_event(cudaEvent_t done, const char* op, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + deadline_;
  detail::Backoff backoff;
  for (;;) {
    const cudaError_t state = cudaEventQuery(done);
    if (state == cudaSuccess) return;
    if (state != cudaErrorNotReady) check_cuda(state, "cudaEventQuery", what);
    ncclResult_t async = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError", what);
    const bool failed = nccl_failed(async);
    const bool late = std::chrono::steady_clock::now() > deadline;
    if (failed || late) {
      ncclCommAbort(comm_);
      aborted_ = true;
      throw Error(failed ? fmt::format("rank {}: NCCL {} failed: {} ({})", rank_, op, ncclGetErrorString(async), what)
                         : fmt::format("rank {}: NCCL {} did not finish within {} s ({})", rank_, op,
                                       detail::seconds_text(deadline_), what));
    }
    backoff.pause();
  }
}

void NcclCommunicator::abandon(cudaEvent_t done, std::vector<at::Tensor> keep) {
  std::lock_guard<std::mutex> lock(abandoned_mutex_);
  abandoned_.emplace_back(done, std::move(keep));
}

void NcclCommunicator::reap_abandoned() {
  std::lock_guard<std::mutex> lock(abandoned_mutex_);
  for (size_t i = 0; i < abandoned_.size();) {
    if (cudaEventQuery(abandoned_[i].first) == cudaErrorNotReady) {
      ++i;
      continue;
    }
    cudaEventDestroy(abandoned_[i].first);
    abandoned_.erase(abandoned_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void NcclCommunicator::barrier(const std::string& what) {
  start(what);
  check_nccl(ncclAllReduce(scratch_, scratch_, 1, ncclInt32, ncclSum, comm_, stream_), "ncclAllReduce", what);
  finish("barrier", what);
}

void NcclCommunicator::allreduce(at::Tensor& t, ReduceOp op, const std::string& what) {
  check_tensor(t, "the allreduce tensor", what);
  const ncclDataType_t type = nccl_type(t, rank_, what);
  start(what);
  check_nccl(ncclAllReduce(t.data_ptr(), t.data_ptr(), t.numel(), type, nccl_op(op), comm_, stream_), "ncclAllReduce",
             what);
  finish("allreduce", what);
}

void NcclCommunicator::broadcast(at::Tensor& t, int root, const std::string& what) {
  check_tensor(t, "the broadcast tensor", what);
  if (root < 0 || root >= size_) {
    throw Error(fmt::format("rank {}: broadcast root {} is not a rank (0..{}) ({})", rank_, root, size_ - 1, what));
  }
  start(what);
  check_nccl(ncclBroadcast(t.data_ptr(), t.data_ptr(), t.nbytes(), ncclUint8, root, comm_, stream_), "ncclBroadcast",
             what);
  finish("broadcast", what);
}

std::unique_ptr<Transfer> NcclCommunicator::start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv,
                                                           int tag, const std::string& what) {
  if (tag < 0 || tag >= kMaxTransferTag) {
    throw Error(
        fmt::format("rank {}: transfer tag {} is out of range (0..{}) ({})", rank_, tag, kMaxTransferTag - 1, what));
  }
  if (send.size() != static_cast<size_t>(size_) || recv.size() != static_cast<size_t>(size_)) {
    throw Error(
        fmt::format("rank {}: an exchange needs one send and one receive tensor per rank ({}), got {} and {} ({})",
                    rank_, size_, send.size(), recv.size(), what));
  }
  std::vector<at::Tensor> keep;
  for (int j = 0; j < size_; ++j) {
    if (send[j].defined() && send[j].nbytes() > 0) check_tensor(send[j], fmt::format("send[{}]", j), what);
    if (recv[j].defined() && recv[j].nbytes() > 0) check_tensor(recv[j], fmt::format("recv[{}]", j), what);
  }
  start(what);
  check_nccl(ncclGroupStart(), "ncclGroupStart", what);
  for (int j = 0; j < size_; ++j) {
    if (recv[j].defined() && recv[j].nbytes() > 0) {
      check_nccl(ncclRecv(recv[j].data_ptr(), recv[j].nbytes(), ncclUint8, j, comm_, stream_), "ncclRecv", what);
      keep.push_back(recv[j]);
    }
    if (send[j].defined() && send[j].nbytes() > 0) {
      check_nccl(ncclSend(send[j].data_ptr(), send[j].nbytes(), ncclUint8, j, comm_, stream_), "ncclSend", what);
      keep.push_back(send[j]);
    }
  }
  check_nccl(ncclGroupEnd(), "ncclGroupEnd", what);
  return std::make_unique<NcclTransfer>(shared_from_this(), record_end(what), std::move(keep), what);
}

}  // namespace

std::shared_ptr<Communicator> nccl_world(const std::shared_ptr<Communicator>& bootstrap) {
  return std::make_shared<NcclCommunicator>(bootstrap);
}

bool nccl_built() { return true; }

}  // namespace halo
