#include "core/metrics_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace halo {

MetricsLog::MetricsLog(const std::string& path) : path_(path) {
  if (path.empty()) return;
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  out_.open(path, std::ios::out | std::ios::trunc);
  if (!out_) throw Error(fmt::format("cannot write metrics file {}: {}", path, std::strerror(errno)));
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!out_.is_open()) return;
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) throw Error(fmt::format("cannot write metrics file {} (disk full?)", path_));
}

}  // namespace halo
