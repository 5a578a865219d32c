#pragma once
// Process resources reported in metrics and benchmarks: memory high-water mark and time.
#include <chrono>
#include <cstdint>
#include <string>

namespace halo {

// Resident set size now and at its peak (Linux VmRSS / VmHWM), in bytes; 0 if unknown.
int64_t current_rss_bytes();
int64_t peak_rss_bytes();
// Resets the peak to the current RSS (Linux clear_refs), so a phase's own peak can be measured.
void reset_peak_rss();
// Returns the free memory of the C heap to the system (glibc's malloc_trim; elsewhere nothing):
// freed vectors of a loaded graph otherwise stay resident.
void trim_heap();
// Memory a new allocation can take without swapping (Linux MemAvailable), in bytes; 0 if unknown.
int64_t available_memory_bytes();
// "" if `bytes` fit in the available memory (or it is unknown); else a sentence saying that
// `what` needs more than there is, for the caller to throw as a usage or input error. Checked
// before allocating, so a size from an option or a file fails naming it, not inside LibTorch.
std::string memory_shortfall(double bytes, const std::string& what);

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace halo
