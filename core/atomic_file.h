#pragma once
// Every file Halo writes goes through here, so that (1) a reader sees either the old content or
// the new, never half of it, and (2) a path naming a device, FIFO, socket or folder is refused,
// never opened or replaced (`--export /dev/null` as root must not turn /dev/null into a file).
// The bytes go to a temporary file beside the target, created exclusively, and are renamed over
// the target once every byte reached the disk; a failure removes the temporary file.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

// A folder a writer fills with files of its own (a partition, a plain dataset), claimed before any
// work so that nothing a user keeps there is replaced or deleted: `dir` may be missing, empty, or
// hold an earlier output of the same kind (`holds_own`: the writer recognised its manifest), the
// last only with `overwrite`. Refusals are UsageErrors that name `what` and `dir`, what is in it and
// what to do; `kind` names the output ("a Halo partition").
class OutputFolder {
 public:
  OutputFolder(std::string dir, bool holds_own, bool overwrite, const std::string& kind,
               const std::string& what = "output folder");
  // Before done(): removes the files write() wrote and the folders it created (those left empty),
  // so a failed writer leaves the folder as it found it, less what it replaced.
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  bool replaces() const { return replaces_; }  // `dir` holds an earlier output (and overwrite was given)
  // Throws Error if writing `name` (relative, may hold subfolders) would go through a path that
  // is not a folder of its own (a symbolic link included) or replace a special file. A writer
  // checks all its names before it removes anything of an earlier output.
  void check(const std::string& name) const;
  // Calls `write` with the path of `name` (check()ed; subfolders created as needed).
  void write(const std::string& name, const std::function<void(const std::string& path)>& write);
  void done() { done_ = true; }

 private:
  std::string dir_;
  bool replaces_ = false, done_ = false;
  std::vector<std::string> files_, folders_;
};

// A log that grows while it is followed (tail -f) cannot go through a temporary file: opens
// `path` for appending (created if missing, emptied first if `truncate`) and returns the file
// descriptor, refusing anything but a regular file. Errors read "cannot write <what> <path>: why".
int open_log_file(const std::string& path, bool truncate, const std::string& what);

}  // namespace halo
