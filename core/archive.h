#pragma once
// Halo's binary container: a magic word, a format version and a table of named, typed
// arrays, each with its own CRC-32. Used for the dataset cache and for partition shards.
// A reader validates everything before trusting a byte: magic, version, table checksum,
// file size against the table (truncation) and each section's checksum when it is read.
//
// Layout (little-endian): magic[8] | u32 version | u32 sections | u32 table_crc | u32 0 |
// table (sections x Entry) | data, each section aligned to 64 bytes.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace halo {

enum class DType : uint8_t { u8 = 1, i32 = 2, i64 = 3, f32 = 4 };

// One row of the section table as stored on disk (96 bytes).
struct ArchiveEntry {
  char name[48];
  uint8_t dtype;
  uint8_t ndim;
  uint8_t pad[6];
  int64_t rows, cols;
  uint64_t offset, nbytes;
  uint32_t crc, pad2;
};
static_assert(sizeof(ArchiveEntry) == 96, "archive table rows are 96 bytes");

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::u8;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}

class ArchiveWriter {
 public:
  // `magic` is exactly 8 characters, e.g. "HALODSET".
  ArchiveWriter(std::string path, std::string magic, uint32_t version);

  // Sections reference the caller's memory until finish(); `rows` x `cols` elements.
  void add(const std::string& name, DType dtype, int64_t rows, int64_t cols, const void* data, int ndim = 1);
  template <class T>
  void add(const std::string& name, const std::vector<T>& v) {
    add(name, dtype_of<T>(), static_cast<int64_t>(v.size()), 1, v.data(), 1);
  }
  // A contiguous CPU tensor of 1 or 2 dimensions (bool is stored as u8).
  void add(const std::string& name, const at::Tensor& t);
  void add_json(const std::string& name, const nlohmann::json& value);

  // Writes everything through an AtomicFile (core/atomic_file.h): a reader never sees a
  // half-written file under the real name, and a path that is not a regular file is refused.
  void finish();

 private:
  struct Pending {
    std::string name;
    DType dtype;
    int64_t rows, cols;
    const void* data;
    int ndim;
  };
  std::string path_, magic_;
  uint32_t version_;
  std::vector<Pending> sections_;
  std::vector<std::string> owned_;  // JSON texts kept alive until finish()
};

class ArchiveReader {
 public:
  // Validates magic, version, table and file size; throws Error naming `path` otherwise.
  ArchiveReader(std::string path, std::string magic, uint32_t version);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  bool has(const std::string& name) const;
  // Rows and columns of a section.
  std::pair<int64_t, int64_t> shape(const std::string& name) const;

  // Reads a 1-D section of `expected_size` elements (-1: any), checking dtype and CRC.
  template <class T>
  std::vector<T> vector(const std::string& name, int64_t expected_size = -1) const {
    std::vector<T> out;
    read_into(name, dtype_of<T>(), expected_size, -1, &out, [](void* o, size_t n) {
      auto* v = static_cast<std::vector<T>*>(o);
      v->resize(n);
      return static_cast<void*>(v->data());
    });
    return out;
  }
  // Reads a section as a tensor with `rows` rows (-1: any) and `cols` columns (-1: any);
  // u8 sections come back as bool.
  at::Tensor tensor(const std::string& name, int64_t rows = -1, int64_t cols = -1) const;
  nlohmann::json json(const std::string& name) const;

  const std::string& path() const { return path_; }

 private:
  using Entry = ArchiveEntry;
  using Alloc = void* (*)(void* owner, size_t elements);
  const Entry* lookup(const std::string& name) const;  // null if absent
  const Entry& find(const std::string& name) const;
  void read_into(const std::string& name, DType dtype, int64_t rows, int64_t cols, void* owner, Alloc alloc) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<Entry> entries_;
};

}  // namespace halo
