#pragma once
// Private to comm/: the MPI backend and the deadline-bounded polling both backends share.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comm/communicator.h"

namespace halo::detail {

// Pauses between polls of a pending operation. Short waits spin, longer ones yield and then
// sleep, growing to 1 ms: ranks often outnumber cores (tests run 4 ranks on 2), and a rank that
// busy-polls takes the core its peer needs to make progress.
class Backoff {
 public:
  void pause();

 private:
  int polls_ = 0;
  std::chrono::microseconds sleep_{10};
};

// A deadline in the form the error messages print it ("1.5").
std::string seconds_text(std::chrono::milliseconds d);

class MpiCommunicator final : public Communicator, public std::enable_shared_from_this<MpiCommunicator> {
 public:
  // thread_safe: MPI was started with MPI_THREAD_MULTIPLE.
  MpiCommunicator(MPI_Comm world, bool thread_safe);

  std::string backend() const override { return "mpi"; }
  bool thread_safe() const override { return thread_safe_; }
  at::Device device() const override { return at::kCPU; }

  void barrier(const std::string& what) override;
  void allreduce(at::Tensor& t, ReduceOp op, const std::string& what) override;
  void broadcast(at::Tensor& t, int root, const std::string& what) override;
  std::unique_ptr<Transfer> start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv, int tag,
                                           const std::string& what) override;

  // Requests nobody waits for (given up on past a deadline, a Transfer destroyed unfinished, an
  // answer to a liveness check): MPI may still write `keep` (or read it), so it stays alive until
  // the request completes. Collectives cannot be cancelled; a later matching call of the other
  // ranks completes them.
  void abandon(std::vector<MPI_Request> requests, std::vector<at::Tensor> keep);

  MPI_Comm comm() const { return comm_; }

  // Answers the liveness checks other ranks sent this one. Every wait loop calls it while it
  // polls, so a rank that answers is alive and waiting; a stopped rank (or one that never got
  // to a wait) stays silent.
  void answer_checks();

  // The text of a deadline error: after a liveness check of every rank, "rank R: rank S did not
  // reach OP within D s (WHAT); ranks ... are waiting", naming the ranks that did not answer;
  // `fallback` (the wait's own view) with a note when every rank answered.
  std::string deadline_error(const std::string& op, const std::string& what, const std::string& fallback);

 private:
  // Polls the requests of a collective until they complete; past the deadline abandons them and
  // throws deadline_error (fallback: "rank R: the other ranks did not join OP within S s (WHAT)").
  void wait_collective(std::vector<MPI_Request> requests, const at::Tensor& keep, const char* op,
                       const std::string& what);
  void reap_abandoned();
  // Sends a check to every other rank and collects answers for a short while; true for the
  // ranks that answered (and this one).
  std::vector<bool> check_liveness();

  MPI_Comm comm_;
  MPI_Comm checks_;  // a second copy of the world: liveness checks never meet Halo's data messages
  std::mutex checks_mutex_;  // answer_checks() may run on several threads
  std::atomic<int64_t> round_{0};  // this rank's liveness checks so far
  bool thread_safe_;
  std::mutex abandoned_mutex_;
  std::vector<MPI_Request> abandoned_;
  std::vector<at::Tensor> abandoned_keep_;
};

}  // namespace halo::detail
