#pragma once
// Machine-readable metrics: one JSON object per line, flushed as written, so a run can be
// followed (tail -f) and plotted while it trains.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace halo {

class MetricsLog {
 public:
  // An empty path logs nothing. Throws Error if the file cannot be created.
  explicit MetricsLog(const std::string& path);
  void write(const nlohmann::json& record);
  bool enabled() const { return out_.is_open(); }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace halo
