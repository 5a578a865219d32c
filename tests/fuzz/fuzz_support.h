#pragma once
// Shared by the fuzz targets: the loaders read files, so a target writes the fuzzer's bytes into
// files of a scratch folder (one per process) and lets the loader at them. Only halo::Error is
// an expected outcome; anything else (another exception, a crash, a sanitizer report, a hang)
// is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace halo::fuzz {

inline std::filesystem::path scratch() {
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / ("halo-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string write(const std::string& name, std::string_view bytes) {
  const std::filesystem::path p = scratch() / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

// The input cut at each "\n---\n" into the files `names` in order (missing ones are not
// written, and any left from the last input are removed).
inline void write_parts(const std::string& folder, const uint8_t* data, size_t size,
                        const std::vector<std::string>& names) {
  std::filesystem::remove_all(scratch() / folder);
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (const std::string& name : names) {
    const size_t cut = rest.find("\n---\n");
    write(folder + "/" + name, rest.substr(0, cut));
    if (cut == std::string_view::npos) return;
    rest.remove_prefix(cut + 5);
  }
}

}  // namespace halo::fuzz
