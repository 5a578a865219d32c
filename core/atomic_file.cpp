#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace halo {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

void check_output_path(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw Error(fmt::format("{} {} is {}: refusing to replace it (give the path of a regular file)", what, path,
                            kind_of(st.st_mode)));
  }
}

uint32_t crc32_of(const void* data, size_t size, uint32_t crc) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  check_output_path(path_);
  // A name of its own per writer: two processes writing the same target never share a file.
  static std::atomic<unsigned> counter{0};
  for (;;) {
    tmp_ = fmt::format("{}.tmp.{}.{}", path_, ::getpid(), counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    if (errno != EEXIST) throw Error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& action, int err) {
  throw Error(fmt::format("cannot {} {}: {}", action, path_, std::strerror(err)));
}

void AtomicFile::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  digest_.crc32 = crc32_of(data, size, digest_.crc32);
  digest_.bytes += size;
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", errno);
    p += n;
    size -= static_cast<size_t>(n);
  }
}

FileDigest AtomicFile::commit() {
  // A full disk can show up only here (delayed allocation), so both results count.
  if (::fsync(fd_) != 0) fail("write", errno);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail("write", errno);
  // Again: something may have taken the name since the constructor looked.
  check_output_path(path_);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    throw Error(fmt::format("cannot rename {} to {}: {}", tmp_, path_, std::strerror(errno)));
  }
  tmp_.clear();
  return digest_;
}

FileDigest write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  return file.commit();
}

OutputFolder::OutputFolder(std::string dir, bool holds_own, bool overwrite, const std::string& kind,
                           const std::string& what)
    : dir_(std::move(dir)) {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) return;  // missing: created by the first write()
  if (!S_ISDIR(st.st_mode)) {
    throw UsageError(fmt::format("{} {} is {}, not a folder: give an empty or new folder", what, dir_,
                                 S_ISREG(st.st_mode) ? "a file" : kind_of(st.st_mode)));
  }
  std::vector<std::string> held;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) held.push_back(entry.path().filename().string());
  if (held.empty()) return;
  std::sort(held.begin(), held.end());
  const std::string names =
      fmt::format("{}{}", fmt::join(held.begin(), held.begin() + std::min<size_t>(held.size(), 3), ", "),
                  held.size() > 3 ? ", ..." : "");
  if (!holds_own) {
    throw UsageError(fmt::format("{} {} holds {} {} not {} ({}): give an empty or new folder", what, dir_, held.size(),
                                 held.size() == 1 ? "entry that is" : "entries that are", kind, names));
  }
  if (!overwrite) {
    throw UsageError(fmt::format("{} {} holds {} ({}): add --overwrite to replace it, or give an empty or new folder",
                                 what, dir_, kind, names));
  }
  replaces_ = true;
}

OutputFolder::~OutputFolder() {
  if (done_) return;
  std::error_code ec;
  for (const std::string& file : files_) std::filesystem::remove(file, ec);
  // Innermost first; remove() leaves a folder that still holds something.
  for (auto it = folders_.rbegin(); it != folders_.rend(); ++it) std::filesystem::remove(*it, ec);
}

void OutputFolder::check(const std::string& name) const {
  namespace fs = std::filesystem;
  fs::path folder = dir_;
  for (const fs::path& part : fs::path(name).parent_path()) {
    folder /= part;
    const fs::file_type type = fs::symlink_status(folder).type();
    if (type == fs::file_type::not_found) return;
    if (type != fs::file_type::directory) {
      throw Error(fmt::format("{} is not a folder of its own (a {}): refusing to write into it", folder.string(),
                              type == fs::file_type::symlink ? "symbolic link" : "file or special file"));
    }
  }
  check_output_path((folder / fs::path(name).filename()).string());
}

void OutputFolder::write(const std::string& name, const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  check(name);
  if (!fs::exists(dir_)) {
    fs::create_directories(dir_);
    folders_.push_back(dir_);
  }
  fs::path folder = dir_;
  for (const fs::path& part : fs::path(name).parent_path()) {
    folder /= part;
    if (fs::create_directory(folder)) folders_.push_back(folder.string());
  }
  const std::string path = (fs::path(dir_) / name).string();
  write(path);
  files_.push_back(path);
}

int open_log_file(const std::string& path, bool truncate, const std::string& what) {
  check_output_path(path, what);
  // Non-blocking: a FIFO put there since the check must not hang the open; fstat refuses it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(fmt::format("cannot write {} {}: {}", what, path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (truncate && ::ftruncate(fd, 0) != 0) ||
      ::fcntl(fd, F_SETFL, O_APPEND) != 0) {
    const int err = errno;
    ::close(fd);
    if (!S_ISREG(st.st_mode)) check_output_path(path, what);
    throw Error(fmt::format("cannot write {} {}: {}", what, path, std::strerror(err)));
  }
  return fd;
}

}  // namespace halo
