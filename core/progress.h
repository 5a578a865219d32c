#pragma once
// A progress line for long steps (loading, partitioning, training), drawn on stderr only when
// stderr is a terminal, so logs and pipes stay clean.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/resources.h"

namespace halo {

class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe; redraws at most ten times a second.
  void advance(int64_t by = 1);
  // Replaces the trailing note (e.g. "loss 0.53").
  void note(const std::string& text);
  void finish();

 private:
  void draw(bool final_line);

  std::string label_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  std::atomic<double> last_draw_{-1.0};
  std::mutex mutex_;
  std::string note_;
  Stopwatch clock_;
  bool enabled_;
  bool finished_ = false;
};

}  // namespace halo
