#include "core/metrics_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"

namespace halo {

MetricsLog::MetricsLog(const std::string& path) : MetricsLog(path, true) {}

MetricsLog::MetricsLog(const std::string& path, bool truncate) : path_(path) {
  if (path.empty()) return;
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = open_log_file(path, truncate, "metrics file");
}

MetricsLog MetricsLog::continued(const std::string& path, int64_t last_epoch) {
  if (path.empty()) return MetricsLog();
  const int64_t logged = last_logged_epoch(path);
  if (logged >= 0 && logged != last_epoch) {
    throw Error(fmt::format(
        "metrics file {}: its last record is epoch {}, but the checkpoint continues after epoch {}; give --metrics "
        "a new file, or cut the log after epoch {}",
        path, logged, last_epoch, last_epoch));
  }
  return MetricsLog(path, false);
}

int64_t last_logged_epoch(const std::string& path) {
  std::ifstream in(path);
  if (!in) return -1;
  std::string line, last;
  int64_t number = 0, last_number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      last = line;
      last_number = number;
    }
  }
  if (last.empty()) return -1;
  try {
    return nlohmann::json::parse(last).at("epoch").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}:{}: not a metrics record with an epoch: {}", path, last_number, e.what()));
  }
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

MetricsLog::MetricsLog(MetricsLog&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

MetricsLog& MetricsLog::operator=(MetricsLog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void MetricsLog::write(const nlohmann::json& record) {
  if (fd_ < 0) return;
  // One write per record: a follower never sees half a line from a buffered flush.
  const std::string line = record.dump() + "\n";
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot write metrics file {}: {}", path_, std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
}

}  // namespace halo
