#include "core/archive.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace halo {
namespace {

constexpr uint64_t kAlign = 64;

struct Header {
  char magic[8];
  uint32_t version, sections, table_crc, pad;
};
static_assert(sizeof(Header) == 24, "archive header is 24 bytes");

size_t dtype_size(DType d) {
  switch (d) {
    case DType::u8:
      return 1;
    case DType::i32:
      return 4;
    case DType::i64:
      return 8;
    case DType::f32:
      return 4;
  }
  return 0;
}

const char* dtype_name(uint8_t d) {
  switch (static_cast<DType>(d)) {
    case DType::u8:
      return "u8";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
    case DType::f32:
      return "f32";
  }
  return "unknown";
}

uint32_t crc_of(const void* data, size_t n) { return crc32_of(data, n); }

uint64_t aligned(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

DType dtype_of_tensor(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kByte:
    case at::kBool:
      return DType::u8;
    case at::kInt:
      return DType::i32;
    case at::kLong:
      return DType::i64;
    case at::kFloat:
      return DType::f32;
    default:
      throw Error(fmt::format("archive: unsupported tensor type {}", std::string(t.dtype().name())));
  }
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::string path, std::string magic, uint32_t version)
    : path_(std::move(path)), magic_(std::move(magic)), version_(version) {
  if (magic_.size() != 8) throw Error("archive magic must be 8 characters: " + magic_);
}

void ArchiveWriter::add(const std::string& name, DType dtype, int64_t rows, int64_t cols, const void* data, int ndim) {
  if (name.size() >= sizeof(ArchiveEntry::name)) throw Error("archive section name too long: " + name);
  sections_.push_back({name, dtype, rows, cols, data, ndim});
}

void ArchiveWriter::add(const std::string& name, const at::Tensor& t) {
  if (!t.is_contiguous() || t.device().type() != at::kCPU || t.dim() < 1 || t.dim() > 2) {
    throw Error(fmt::format("archive section '{}' needs a contiguous 1-D or 2-D CPU tensor", name));
  }
  add(name, dtype_of_tensor(t), t.size(0), t.dim() == 2 ? t.size(1) : 1, t.data_ptr(), static_cast<int>(t.dim()));
}

void ArchiveWriter::add_json(const std::string& name, const nlohmann::json& value) {
  owned_.push_back(value.dump());
  add(name, DType::u8, static_cast<int64_t>(owned_.back().size()), 1, owned_.back().data());
}

void ArchiveWriter::finish() {
  std::vector<ArchiveEntry> table(sections_.size());
  uint64_t offset = aligned(sizeof(Header) + table.size() * sizeof(ArchiveEntry));
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Pending& s = sections_[i];
    ArchiveEntry& e = table[i];
    std::memset(&e, 0, sizeof e);
    std::memcpy(e.name, s.name.data(), s.name.size());
    e.dtype = static_cast<uint8_t>(s.dtype);
    e.ndim = static_cast<uint8_t>(s.ndim);
    e.rows = s.rows;
    e.cols = s.cols;
    e.offset = offset;
    e.nbytes = static_cast<uint64_t>(s.rows * s.cols) * dtype_size(s.dtype);
    e.crc = crc_of(s.data, e.nbytes);
    offset = aligned(offset + e.nbytes);
  }
  Header h{};
  std::memcpy(h.magic, magic_.data(), 8);
  h.version = version_;
  h.sections = static_cast<uint32_t>(table.size());
  h.table_crc = crc_of(table.data(), table.size() * sizeof(ArchiveEntry));

  AtomicFile file(path_);
  uint64_t at = 0;
  auto put = [&](const void* data, size_t n) {
    file.write(data, n);
    at += n;
  };
  const char zeros[kAlign] = {};
  put(&h, sizeof h);
  put(table.data(), table.size() * sizeof(ArchiveEntry));
  for (size_t i = 0; i < sections_.size(); ++i) {
    put(zeros, table[i].offset - at);
    put(sections_[i].data, table[i].nbytes);
  }
  file.commit();
}

ArchiveReader::ArchiveReader(std::string path, std::string magic, uint32_t version) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) throw Error(fmt::format("cannot open {}: {}", path_, std::strerror(errno)));
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path_, ec);
  Header h{};
  if (ec || std::fread(&h, sizeof h, 1, file_) != 1) {
    std::fclose(file_);
    throw Error(
        fmt::format("{}: truncated: {} bytes, shorter than the {}-byte header", path_, ec ? 0 : size, sizeof h));
  }
  auto fail = [&](const std::string& what) {
    std::fclose(file_);
    file_ = nullptr;
    throw Error(fmt::format("{}: {}", path_, what));
  };
  if (std::memcmp(h.magic, magic.data(), 8) != 0) {
    fail(fmt::format("not a Halo {} file (expected magic '{}', found '{}')", magic == "HALODSET" ? "dataset" : "shard",
                     magic, std::string(h.magic, strnlen(h.magic, 8))));
  }
  if (h.version != version) {
    fail(fmt::format("format version {} is not supported (this build reads version {})", h.version, version));
  }
  const uint64_t table_bytes = uint64_t{h.sections} * sizeof(ArchiveEntry);
  if (sizeof h + table_bytes > size) {
    fail(fmt::format("truncated: section table needs {} bytes, file has {}", sizeof h + table_bytes, size));
  }
  entries_.resize(h.sections);
  if (std::fread(entries_.data(), 1, table_bytes, file_) != table_bytes) fail("cannot read section table");
  if (crc_of(entries_.data(), table_bytes) != h.table_crc) fail("section table checksum mismatch (file corrupt)");
  for (const ArchiveEntry& e : entries_) {
    if (e.offset + e.nbytes > size) {
      fail(fmt::format("truncated: section '{}' ends at byte {}, file has {} bytes",
                       std::string(e.name, strnlen(e.name, sizeof e.name)), e.offset + e.nbytes, size));
    }
  }
}

ArchiveReader::~ArchiveReader() {
  if (file_ != nullptr) std::fclose(file_);
}

const ArchiveEntry* ArchiveReader::lookup(const std::string& name) const {
  for (const ArchiveEntry& e : entries_) {
    if (name == std::string(e.name, strnlen(e.name, sizeof e.name))) return &e;
  }
  return nullptr;
}

const ArchiveEntry& ArchiveReader::find(const std::string& name) const {
  const ArchiveEntry* e = lookup(name);
  if (e == nullptr) throw Error(fmt::format("{}: missing section '{}'", path_, name));
  return *e;
}

bool ArchiveReader::has(const std::string& name) const { return lookup(name) != nullptr; }

std::pair<int64_t, int64_t> ArchiveReader::shape(const std::string& name) const {
  const ArchiveEntry& e = find(name);
  return {e.rows, e.cols};
}

void ArchiveReader::read_into(const std::string& name, DType dtype, int64_t rows, int64_t cols, void* owner,
                              Alloc alloc) const {
  const ArchiveEntry& e = find(name);
  if (e.dtype != static_cast<uint8_t>(dtype)) {
    throw Error(fmt::format("{}: section '{}' holds {}, expected {}", path_, name, dtype_name(e.dtype),
                            dtype_name(static_cast<uint8_t>(dtype))));
  }
  if ((rows >= 0 && e.rows != rows) || (cols >= 0 && e.cols != cols)) {
    throw Error(fmt::format("{}: section '{}' has shape {}x{}, expected {}x{}", path_, name, e.rows, e.cols,
                            rows >= 0 ? std::to_string(rows) : "*", cols >= 0 ? std::to_string(cols) : "*"));
  }
  if (e.rows < 0 || e.cols < 0 || e.nbytes != static_cast<uint64_t>(e.rows * e.cols) * dtype_size(dtype)) {
    throw Error(fmt::format("{}: section '{}' size does not match its shape (file corrupt)", path_, name));
  }
  void* dst = alloc(owner, static_cast<size_t>(e.rows * e.cols));
  if (std::fseek(file_, static_cast<long>(e.offset), SEEK_SET) != 0 ||
      std::fread(dst, 1, e.nbytes, file_) != e.nbytes) {
    throw Error(fmt::format("{}: cannot read section '{}'", path_, name));
  }
  if (crc_of(dst, e.nbytes) != e.crc) {
    throw Error(fmt::format("{}: checksum mismatch in section '{}' (file corrupt)", path_, name));
  }
}

at::Tensor ArchiveReader::tensor(const std::string& name, int64_t rows, int64_t cols) const {
  const ArchiveEntry& e = find(name);
  at::ScalarType type = at::kFloat;
  switch (static_cast<DType>(e.dtype)) {
    case DType::u8:
      type = at::kBool;
      break;
    case DType::i32:
      type = at::kInt;
      break;
    case DType::i64:
      type = at::kLong;
      break;
    case DType::f32:
      type = at::kFloat;
      break;
    default:
      throw Error(fmt::format("{}: section '{}' has unknown type {}", path_, name, e.dtype));
  }
  at::Tensor out;
  struct Ctx {
    at::Tensor* out;
    at::ScalarType type;
    int64_t rows, cols;
    bool matrix;
  } ctx{&out, type, e.rows, e.cols, e.ndim == 2};
  read_into(name, static_cast<DType>(e.dtype), rows, cols, &ctx, [](void* o, size_t) {
    auto* c = static_cast<Ctx*>(o);
    *c->out = c->matrix ? at::empty({c->rows, c->cols}, c->type) : at::empty({c->rows}, c->type);
    return c->out->data_ptr();
  });
  return out;
}

nlohmann::json ArchiveReader::json(const std::string& name) const {
  const std::vector<uint8_t> bytes = vector<uint8_t>(name);
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& ex) {
    throw Error(fmt::format("{}: section '{}' is not valid JSON: {}", path_, name, ex.what()));
  }
}

}  // namespace halo
