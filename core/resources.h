#pragma once
// Process resources reported in metrics and benchmarks: memory high-water mark and time.
#include <chrono>
#include <cstdint>

namespace halo {

// Resident set size now and at its peak (Linux VmRSS / VmHWM), in bytes; 0 if unknown.
int64_t current_rss_bytes();
int64_t peak_rss_bytes();
// Resets the peak to the current RSS (Linux clear_refs), so a phase's own peak can be measured.
void reset_peak_rss();

// Tells glibc's malloc to keep the memory tensors free for the next one. By default every block
// over 32 MiB is a fresh mmap, returned at free: an epoch allocates the same large tensors as the
// one before, and each time the kernel zeroes and maps their pages again (a third of a
// Reddit-sized epoch). Kept, they are reused in place; the peak is the same. Process-wide, so the
// program decides: `halo` calls it at start-up.
void keep_freed_memory();

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace halo
