#pragma once
// Shared pieces of the tests: where the real datasets live, scratch folders, and checking
// that a call fails with a given message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

namespace halo::test {

// Folder of a real dataset: $HALO_DATA/<name>, else the build's default (../shared/datasets).
inline std::string dataset_dir(const std::string& name) {
  const char* env = std::getenv("HALO_DATA");
  return (std::filesystem::path(env != nullptr ? env : HALO_TEST_DATA) / name).string();
}

// A fresh folder removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("halo-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path(const std::string& name = "") const { return (path_ / name).string(); }
  // Writes `text` to <dir>/<name> (creating subfolders) and returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

// Expects `fn` to throw a std::exception whose message contains every piece of `parts`.
inline void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    for (const std::string& part : parts) {
      EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg << "\nmissing: " << part;
    }
    return;
  }
  ADD_FAILURE() << "expected an error mentioning " << *parts.begin();
}

}  // namespace halo::test
