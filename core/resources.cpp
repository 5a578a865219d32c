#include "core/resources.h"

#include <fmt/format.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fstream>
#include <string>

namespace halo {
namespace {

// A "Field: N kB" line of a /proc file, in KiB; 0 if absent.
int64_t proc_kib(const char* file, const std::string& field) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return 0;
}

}  // namespace

int64_t current_rss_bytes() { return proc_kib("/proc/self/status", "VmRSS") * 1024; }
int64_t peak_rss_bytes() { return proc_kib("/proc/self/status", "VmHWM") * 1024; }
int64_t available_memory_bytes() { return proc_kib("/proc/meminfo", "MemAvailable") * 1024; }

std::string memory_shortfall(double bytes, const std::string& what) {
  const auto available = static_cast<double>(available_memory_bytes());
  if (available == 0 || bytes <= available) return "";
  return fmt::format("{} needs at least {:.3g} GiB of memory, more than the {:.3g} GiB available", what,
                     bytes / (1 << 30), available / (1 << 30));
}

void reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

void trim_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace halo
