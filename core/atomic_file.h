#pragma once
// Every file Halo writes goes through here, so that (1) a reader sees either the old content or
// the new, never half of it, and (2) a path naming a device, FIFO, socket or folder is refused,
// never opened or replaced (`--export /dev/null` as root must not turn /dev/null into a file).
// The bytes go to a temporary file beside the target, created exclusively, and are renamed over
// the target once every byte reached the disk; a failure removes the temporary file.
#include <cstddef>
#include <cstdint>
#include <string>

namespace halo {

// Throws Error naming `path` if it exists and is not a regular file (a symbolic link counts as
// what it points to); `what` says whose path it is ("--export", "metrics file").
void check_output_path(const std::string& path, const std::string& what = "output");

// Size and CRC-32 of bytes written or read, as manifests record them.
struct FileDigest {
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
  bool operator==(const FileDigest& o) const { return bytes == o.bytes && crc32 == o.crc32; }
};
uint32_t crc32_of(const void* data, size_t size, uint32_t crc = 0);

class AtomicFile {
 public:
  // Checks `path` (check_output_path) and creates the temporary file beside it.
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // without commit(): removes the temporary file
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  // Flushes and syncs the bytes and renames the file over the target; returns their digest.
  FileDigest commit();
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& action, int err);
  std::string path_, tmp_;
  int fd_ = -1;
  FileDigest digest_;
};

FileDigest write_file_atomically(const std::string& path, const std::string& bytes);

// A log that grows while it is followed (tail -f) cannot go through a temporary file: opens
// `path` for appending (created if missing, emptied first if `truncate`) and returns the file
// descriptor, refusing anything but a regular file. Errors read "cannot write <what> <path>: why".
int open_log_file(const std::string& path, bool truncate, const std::string& what);

}  // namespace halo
