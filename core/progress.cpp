#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace halo {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), enabled_(isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t by) {
  done_.fetch_add(by, std::memory_order_relaxed);
  if (!enabled_) return;
  const double now = clock_.seconds();
  double last = last_draw_.load(std::memory_order_relaxed);
  if (now - last < 0.1 || !last_draw_.compare_exchange_strong(last, now)) return;
  draw(false);
}

void Progress::note(const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  note_ = text;
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_line) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t done = done_.load(std::memory_order_relaxed);
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  std::fprintf(stderr, "\r\033[K%s %5.1f%% (%lld/%lld) %.1fs %s%s", label_.c_str(), pct, static_cast<long long>(done),
               static_cast<long long>(total_), clock_.seconds(), note_.c_str(), final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace halo
