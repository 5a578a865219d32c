#pragma once
// Machine-readable metrics: one JSON object per line, written as the epoch ends, so a run can be
// followed (tail -f) and plotted while it trains.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace halo {

class MetricsLog {
 public:
  MetricsLog() = default;  // logs nothing
  // Starts `path` afresh (an empty path logs nothing). Throws Error if it cannot be written or
  // is not a regular file.
  explicit MetricsLog(const std::string& path);
  // A resumed run continues `path` after its record of epoch `last_epoch`, which must be the
  // file's last record: the epochs before the checkpoint stay, and a log that does not end where
  // the checkpoint does is refused rather than mixed in. A missing or empty file starts afresh.
  static MetricsLog continued(const std::string& path, int64_t last_epoch);
  ~MetricsLog();
  MetricsLog(MetricsLog&& other) noexcept;
  MetricsLog& operator=(MetricsLog&& other) noexcept;

  void write(const nlohmann::json& record);
  bool enabled() const { return fd_ >= 0; }

 private:
  MetricsLog(const std::string& path, bool truncate);
  std::string path_;
  int fd_ = -1;
};

// The "epoch" of the last record of the metrics file `path`, -1 if it holds none (or is missing).
int64_t last_logged_epoch(const std::string& path);

}  // namespace halo
