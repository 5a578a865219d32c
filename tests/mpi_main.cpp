// gtest main for the tests mpirun starts on every rank: MPI starts first, rank 0 prints the usual
// report, every rank prints its failures prefixed by its rank, and the job fails if any rank did.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "comm/communicator.h"
#include "core/threads.h"

namespace {

class RankFailures : public testing::EmptyTestEventListener {
 public:
  explicit RankFailures(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed()) {
      std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, r.file_name() ? r.file_name() : "?", r.line_number(),
                   r.summary());
    }
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  const auto world = halo::mpi_world();
  // As `halo` does: the cores shared among the ranks on this host, not oversubscribed threads.
  const auto thread_limit = halo::use_threads(0);
  // A test that breaks on one rank fails the others within a minute instead of hanging the job.
  world->set_deadline(std::chrono::seconds(60));
  testing::InitGoogleTest(&argc, argv);
  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  if (world->rank() != 0) delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new RankFailures(world->rank()));
  at::Tensor failed = at::full({1}, RUN_ALL_TESTS() != 0 ? 1 : 0, at::kInt);
  world->allreduce(failed, halo::ReduceOp::max, "the test results");
  if (world->rank() == 0 && failed.item<int>() != 0)
    std::fprintf(stderr, "FAILED on some rank: see the [rank R] lines\n");
  return failed.item<int>();
}
