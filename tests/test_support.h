#pragma once
// Shared pieces of the tests: where the real datasets live, scratch folders, checking that a
// call fails with a given message, and running a command.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
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

struct Outcome {
  int code;         // exit status, -1 if killed
  std::string out;  // stdout, plus stderr when asked
};

// Runs a shell command and collects its output.
inline Outcome run(const std::string& command, bool with_stderr = false) {
  const std::string cmd = command + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

#ifdef HALO_BIN
// `halo ARGS`, the program under test; with_stderr: its stderr joins stdout.
inline Outcome halo(const std::string& args, bool with_stderr = false) {
  return run(std::string(HALO_BIN) + " " + args, with_stderr);
}
#endif

}  // namespace halo::test
