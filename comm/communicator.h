#pragma once
// Communicator: the ranks of one job and the collectives / point-to-point transfers Halo needs.
// Backends: MPI (CPU tensors) and, in CUDA builds, NCCL (one GPU per rank). Every wait has a
// deadline: a peer that does not answer in time makes this rank throw an Error naming itself,
// what it was waiting for (the caller's `what`, e.g. "epoch 3, layer 1 features") and, on MPI,
// the ranks that stopped (found by a short liveness check of every rank after the deadline), so
// a dead or stuck rank stops the job instead of hanging it.
#include <ATen/core/Tensor.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace halo {

enum class ReduceOp { sum, max, min };

// Tags tell apart transfers in flight at the same time; callers keep them below this bound, so
// tags never grow with the epoch.
constexpr int kMaxTransferTag = 1 << 12;

// A started transfer; wait() completes it. Destroying an unfinished transfer cancels nothing:
// wait() on every transfer you start. test() and wait() may be called from different threads
// (a progress thread tests while the owner computes, then waits).
class Transfer {
 public:
  virtual ~Transfer() = default;
  // Blocks until every message is done; past the deadline throws Error "rank R: rank S did not
  // reach the exchange within D s (WHAT); ranks ... are waiting" (MPI; when no rank stopped it
  // names the first peer still pending: "rank R: peer P did not answer within D s (WHAT); ...").
  virtual void wait() = 0;
  // Moves the messages along without blocking; true once every message is done.
  virtual bool test() = 0;

  // Seconds from the start until the messages were seen done (by test or wait); 0 before.
  double flight_seconds() const {
    const auto done = done_.load();
    return done == kNotDone
               ? 0
               : std::chrono::duration<double>(std::chrono::steady_clock::duration(done) - started_).count();
  }

 protected:
  void mark_done() { done_.store(std::chrono::steady_clock::now().time_since_epoch().count()); }

 private:
  static constexpr int64_t kNotDone = -1;
  std::chrono::steady_clock::duration started_ = std::chrono::steady_clock::now().time_since_epoch();
  std::atomic<int64_t> done_{kNotDone};
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // rank among the ranks on this host
  int local_size() const { return local_size_; }  // ranks on this host
  virtual std::string backend() const = 0;        // "mpi" or "nccl"
  virtual at::Device device() const = 0;          // where the tensors passed in must live
  // Whether a second thread may test transfers while this one calls in (MPI_THREAD_MULTIPLE).
  virtual bool thread_safe() const = 0;

  std::chrono::milliseconds deadline() const { return deadline_; }
  void set_deadline(std::chrono::milliseconds d) { deadline_ = d; }

  // Collectives over all ranks; tensors contiguous, same shape and dtype on every rank.
  virtual void barrier(const std::string& what) = 0;
  virtual void allreduce(at::Tensor& t, ReduceOp op, const std::string& what) = 0;  // in place
  virtual void broadcast(at::Tensor& t, int root, const std::string& what) = 0;     // in place

  // Starts sending send[j] to and receiving recv[j] from every peer j (vectors of size(); an
  // undefined or empty tensor means no message). recv tensors are contiguous and sized by the
  // caller (all-to-all-v with sizes known on both sides); tag < kMaxTransferTag.
  virtual std::unique_ptr<Transfer> start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv, int tag,
                                                   const std::string& what) = 0;
  // Blocking form of start_exchange.
  void alltoallv(std::vector<at::Tensor> send, std::vector<at::Tensor> recv, int tag, const std::string& what) {
    start_exchange(std::move(send), std::move(recv), tag, what)->wait();
  }

 protected:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::chrono::milliseconds deadline_{std::chrono::minutes(10)};
};

// `t` (host memory) reduced over comm's ranks on comm's device, back on the host; t itself when
// comm is null (one process).
at::Tensor over_ranks(Communicator* comm, const at::Tensor& t, ReduceOp op, const std::string& what);

// The job's MPI_COMM_WORLD: MPI_Init_thread (MPI_THREAD_MULTIPLE requested) on first use,
// MPI_Finalize at exit. Works without mpirun too (a job of one rank).
std::shared_ptr<Communicator> mpi_world();
// True once mpi_world() has started MPI.
bool mpi_started();
// MPI counts are ints, so the MPI backend moves a buffer in pieces of at most this many bytes
// (default 2^30; allreduce: the most whole elements that fit). Every rank must use the same
// value, set between operations; tests lower it so small messages travel in many pieces.
constexpr int64_t kDefaultMpiPieceBytes = int64_t{1} << 30;
void set_mpi_piece_bytes(int64_t bytes);
int64_t mpi_piece_bytes();
// Ends the whole job with `code` (MPI_Abort when MPI runs with more than one rank, exit()
// otherwise), so the other ranks stop instead of waiting for this one.
[[noreturn]] void abort_job(int code);

// `inner`'s ranks for tensors on `device`: every call copies them to inner's device (the host,
// for MPI) and the results back. The MPI backend on GPUs: ranks sharing a GPU, or no NCCL.
// Set the deadline on `inner` first; it is inner's waits that enforce it.
std::shared_ptr<Communicator> staged(std::shared_ptr<Communicator> inner, at::Device device);

// NCCL over the GPUs of the job, one per rank chosen by local rank; the NCCL id travels over
// `bootstrap` (an MPI communicator). Throws Error when Halo was built without CUDA/NCCL.
std::shared_ptr<Communicator> nccl_world(const std::shared_ptr<Communicator>& bootstrap);
bool nccl_built();

}  // namespace halo
