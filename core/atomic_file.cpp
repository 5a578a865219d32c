#include "core/atomic_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace halo {

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();  // a full disk shows up at the final flush
    if (!out) {
      const int err = errno;
      std::filesystem::remove(tmp);
      throw Error(fmt::format("cannot write {}: {}", tmp, std::strerror(err)));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(fmt::format("cannot rename {} to {}: {}", tmp, path, ec.message()));
}

}  // namespace halo
