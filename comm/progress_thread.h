#pragma once
// ProgressThread: moves started transfers along from a background thread. MPI advances a
// nonblocking message only inside MPI calls, so without it a message posted before a long
// computation would mostly travel when the computation ends and someone waits on it. The
// thread tests the transfers it watches, sleeping between rounds (growing to 1 ms when nothing
// completes), so it takes little from the compute threads; it needs MPI_THREAD_MULTIPLE.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "comm/communicator.h"

namespace halo {

class ProgressThread {
 public:
  ProgressThread();
  ~ProgressThread();  // stops and joins the thread; transfers still watched are left to their owners
  ProgressThread(const ProgressThread&) = delete;
  ProgressThread& operator=(const ProgressThread&) = delete;

  // Tests `transfer` until it completes (its owner still waits on it).
  void watch(std::shared_ptr<Transfer> transfer);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<Transfer>> watched_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace halo
