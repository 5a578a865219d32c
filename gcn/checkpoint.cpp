#include "gcn/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/json_integer.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

constexpr int kVersion = 2;  // 2: file sizes and checksums in the manifest
constexpr const char* kLockFile = ".lock";

fs::path state_path(const std::string& dir) { return fs::path(dir) / "state.json"; }

double accuracy_field(const nlohmann::json& best, const char* name) {
  const double a = best.at(name).get<double>();
  if (!(a >= 0 && a <= 1)) throw Error(fmt::format("\"at_best\".\"{}\" is {}, expected a value in [0, 1]", name, a));
  return a;
}

// A name inside the epoch's folder, never a way out of it.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

std::string checkpoint_folder(int64_t epoch) { return fmt::format("epoch-{:06d}", epoch); }

nlohmann::json CheckpointState::to_json() const {
  nlohmann::json listed = nlohmann::json::object();
  for (const auto& [name, d] : files) listed[name] = {{"bytes", d.bytes}, {"crc32", d.crc32}};
  return {{"format", "halo-checkpoint"},
          {"version", kVersion},
          {"folder", checkpoint_folder(epoch)},
          {"epoch", epoch},
          {"seed", seed},
          {"ranks", ranks},
          {"pipeline", pipeline},
          {"best_epoch", best_epoch},
          {"at_best", {{"train", best_train}, {"val", best_val}, {"test", best_test}}},
          {"files", listed}};
}

void write_checkpoint_state(const std::string& dir, const CheckpointState& state) {
  write_file_atomically(state_path(dir).string(), state.to_json().dump(2) + "\n");
}

CheckpointState read_checkpoint_state(const std::string& dir) {
  const std::string path = state_path(dir).string();
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open; no complete checkpoint in {}", path, dir));
  CheckpointState s;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.at("format") != "halo-checkpoint" || j.at("version") != kVersion) {
      throw Error(fmt::format("not a Halo checkpoint of version {} (format {}, version {})", kVersion,
                              j.at("format").dump(), j.at("version").dump()));
    }
    s.epoch = json_integer<int64_t>(j.at("epoch"));
    if (s.epoch < 0) throw Error(fmt::format("\"epoch\" is {}, expected a count of epochs >= 0", s.epoch));
    const std::string folder = j.at("folder").get<std::string>();
    if (folder != checkpoint_folder(s.epoch)) {
      throw Error(fmt::format("\"folder\" is '{}' but \"epoch\" is {}, whose folder is '{}'", folder, s.epoch,
                              checkpoint_folder(s.epoch)));
    }
    s.seed = json_integer<uint64_t>(j.at("seed"));
    s.ranks = json_integer<int64_t>(j.at("ranks"));
    if (s.ranks < 1) throw Error(fmt::format("\"ranks\" is {}, expected >= 1", s.ranks));
    s.pipeline = j.at("pipeline").get<bool>();
    s.best_epoch = json_integer<int64_t>(j.at("best_epoch"));
    if (s.best_epoch < -1 || s.best_epoch >= s.epoch) {
      throw Error(fmt::format("\"best_epoch\" is {}, expected -1 or an epoch before {}", s.best_epoch, s.epoch));
    }
    const nlohmann::json& best = j.at("at_best");
    s.best_train = accuracy_field(best, "train");
    s.best_val = accuracy_field(best, "val");
    s.best_test = accuracy_field(best, "test");
    for (const auto& [name, d] : j.at("files").items()) {
      if (!plain_file_name(name)) throw Error(fmt::format("\"files\" lists '{}', not a file name", name));
      s.files[name] = {json_integer<uint64_t>(d.at("bytes")), json_integer<uint32_t>(d.at("crc32"))};
    }
    for (const char* needed : {"model.pt", "optimizer.pt"}) {
      if (s.files.count(needed) == 0) throw Error(fmt::format("\"files\" does not list {}", needed));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
  return s;
}

std::string read_checkpoint_file(const std::string& dir, const CheckpointState& state, const std::string& file) {
  const std::string path = (fs::path(dir) / checkpoint_folder(state.epoch) / file).string();
  const auto listed = state.files.find(file);
  if (listed == state.files.end()) {
    throw Error(fmt::format("{}: not listed in {}, so not part of that checkpoint", path, state_path(dir).string()));
  }
  const FileDigest& want = listed->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(fmt::format("{}: missing ({}; {} lists it with {} bytes)", path, std::strerror(errno),
                            state_path(dir).string(), want.bytes));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() != want.bytes) {
    throw Error(fmt::format("{}: {} bytes, {} lists {}: the file is {}", path, bytes.size(), state_path(dir).string(),
                            want.bytes, bytes.size() < want.bytes ? "truncated" : "too long"));
  }
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  if (crc != want.crc32) {
    throw Error(fmt::format("{}: checksum mismatch (CRC-32 {:08x}, {} lists {:08x}): the file is corrupt", path, crc,
                            state_path(dir).string(), want.crc32));
  }
  return bytes;
}

void remove_checkpoint_files(const std::string& dir, const CheckpointState& state) {
  const fs::path folder = fs::path(dir) / checkpoint_folder(state.epoch);
  std::error_code ec;
  for (const auto& [name, digest] : state.files) fs::remove(folder / name, ec);
  fs::remove(folder, ec);  // only if nothing else is left in it
}

CheckpointFolder::CheckpointFolder(std::string dir, bool resume, bool overwrite) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw Error(fmt::format("cannot create checkpoint folder {}: {}", dir_, ec.message()));
  const std::string lock = (fs::path(dir_) / kLockFile).string();
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (lock_fd_ < 0) throw Error(fmt::format("cannot write checkpoint folder {}: {}", dir_, std::strerror(errno)));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[256] = {};
    const ssize_t n = ::pread(lock_fd_, holder, sizeof holder - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    const std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
    throw Error(
        fmt::format("checkpoint folder {} is in use by another run ({}, holding {}); wait for it to end, or "
                    "give another --checkpoint folder",
                    dir_, who.substr(0, who.find('\n')), lock));
  }
  // A refusal below leaves no lock behind: the destructor does not run for a throwing constructor.
  try {
    claim(resume, overwrite);
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

void CheckpointFolder::claim(bool resume, bool overwrite) {
  const std::string lock = (fs::path(dir_) / kLockFile).string();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string me = fmt::format("pid {} on host {}\n", ::getpid(), host);
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    throw Error(fmt::format("cannot write {}: {}", lock, std::strerror(errno)));
  }
  // The lock file may exist in a folder that no longer takes new files (read-only mount or
  // permissions): a file created and dropped here shows it before any epoch runs.
  try {
    AtomicFile probe(lock + ".probe");
  } catch (const Error& e) {
    throw Error(fmt::format("checkpoint folder {} is not writable: {}", dir_, e.what()));
  }
  if (resume) return;
  std::vector<std::string> held;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename() != kLockFile) held.push_back(entry.path().filename().string());
  }
  if (held.empty()) return;
  if (!overwrite) {
    std::sort(held.begin(), held.end());
    const std::string what = fs::exists(state_path(dir_)) ? "holds a checkpoint" : "is not empty";
    throw UsageError(fmt::format(
        "checkpoint folder {} {} ({} entries: {}); continue it with --resume, start afresh over it with "
        "--overwrite, or give an empty folder",
        dir_, what, held.size(), fmt::join(held.begin(), held.begin() + std::min<size_t>(held.size(), 3), ", ")));
  }
  // Overwritten: the old checkpoint goes once the new one is complete; a manifest that cannot be
  // read names no files, so nothing is deleted on its word.
  if (fs::exists(state_path(dir_))) {
    try {
      previous = read_checkpoint_state(dir_);
    } catch (const Error&) {
    }
  }
}

CheckpointFolder::~CheckpointFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

}  // namespace halo
