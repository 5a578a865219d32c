#include "comm/progress_thread.h"

#include <algorithm>
#include <chrono>

namespace halo {

ProgressThread::ProgressThread() : thread_([this] { run(); }) {}

ProgressThread::~ProgressThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ProgressThread::watch(std::shared_ptr<Transfer> transfer) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    watched_.push_back(std::move(transfer));
  }
  wake_.notify_one();
}

void ProgressThread::run() {
  std::chrono::microseconds pause{20};
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (watched_.empty()) {
      wake_.wait(lock, [&] { return stop_ || !watched_.empty(); });
      pause = std::chrono::microseconds(20);
      continue;
    }
    std::vector<std::shared_ptr<Transfer>> round = watched_;
    lock.unlock();
    std::vector<Transfer*> finished;
    for (const auto& t : round) {
      bool done = true;  // a failing transfer is left to its owner's wait(), which reports it
      try {
        done = t->test();
      } catch (const std::exception&) {
      }
      if (done) finished.push_back(t.get());
    }
    round.clear();
    pause = finished.empty() ? std::min(pause * 2, std::chrono::microseconds(1000)) : std::chrono::microseconds(20);
    lock.lock();
    watched_.erase(std::remove_if(watched_.begin(), watched_.end(),
                                  [&](const auto& t) {
                                    return std::find(finished.begin(), finished.end(), t.get()) != finished.end();
                                  }),
                   watched_.end());
    wake_.wait_for(lock, pause, [&] { return stop_; });
  }
}

}  // namespace halo
