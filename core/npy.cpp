#include "core/npy.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"

namespace halo {

namespace {

constexpr std::pair<at::ScalarType, const char*> kDtypes[] = {
    {at::kFloat, "<f4"}, {at::kDouble, "<f8"}, {at::kInt, "<i4"}, {at::kLong, "<i8"}};

}  // namespace

std::string npy_bytes(const at::Tensor& t) {
  const char* descr = nullptr;
  for (const auto& [type, name] : kDtypes) {
    if (t.scalar_type() == type) descr = name;
  }
  if (!descr) throw Error(fmt::format("npy: cannot write {} tensors", c10::toString(t.scalar_type())));
  std::string shape;
  for (int64_t d : t.sizes()) shape += fmt::format("{}, ", d);
  shape.resize(shape.size() - (t.dim() == 1 ? 1 : t.dim() > 1 ? 2 : 0));  // "(3,)", "(3, 4)"
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64
  // bytes and ended by a newline.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  const at::Tensor data = t.cpu().contiguous();
  const size_t bytes = static_cast<size_t>(data.numel()) * data.element_size();
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const size_t at = out.size();
  out.resize(at + bytes);
  if (bytes > 0) std::memcpy(out.data() + at, data.data_ptr(), bytes);
  return out;
}

at::Tensor npy_tensor(const std::string& bytes, const std::string& where) {
  auto fail = [&](const std::string& why) {
    return Error(fmt::format("{}: not a .npy file Halo reads: {}", where, why));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw fail("no .npy magic");
  if (bytes[6] != 1) throw fail(fmt::format("version {}, expected 1", static_cast<int>(bytes[6])));
  const size_t length = static_cast<uint8_t>(bytes[8]) | static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8;
  if (bytes.size() < 10 + length) throw fail("truncated header");
  const std::string header = bytes.substr(10, length);
  auto field = [&](const std::string& key) {
    const size_t at = header.find("'" + key + "': ");
    if (at == std::string::npos) throw fail("no '" + key + "' in the header");
    return header.substr(at + key.size() + 4);
  };
  const std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
  std::optional<at::ScalarType> type;
  for (const auto& [t, name] : kDtypes) {
    if (descr.compare(0, std::strlen(name) + 2, fmt::format("'{}'", name)) == 0) type = t;
  }
  if (!type) throw fail("dtype " + descr.substr(0, descr.find(',')) + ", expected float32/64 or int32/64");
  if (order.compare(0, 5, "False") != 0) throw fail("Fortran order");
  std::vector<int64_t> sizes;
  size_t pos = 1;  // after '('
  while (pos < shape.size() && shape[pos] != ')') {
    size_t used = 0;
    int64_t size = -1;
    try {
      size = std::stoll(shape.substr(pos), &used);
    } catch (const std::exception&) {
    }
    if (size < 0 || size > (int64_t{1} << 40)) throw fail("shape " + shape.substr(0, shape.find(')') + 1));
    sizes.push_back(size);
    pos += used;
    while (pos < shape.size() && (shape[pos] == ',' || shape[pos] == ' ')) ++pos;
  }
  // The shape's bytes, counted no further than past the data (no overflow).
  const size_t have = bytes.size() - 10 - length;
  size_t data = c10::elementSize(*type);
  for (int64_t size : sizes) {
    const auto n = static_cast<size_t>(size);
    data = n == 0 ? 0 : data > have / n ? have + 1 : data * n;
  }
  if (data != have) {
    throw fail(fmt::format("{} bytes of data, the shape asks for {}", have,
                           data > have ? std::string("more") : std::to_string(data)));
  }
  at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(*type));
  if (data > 0) std::memcpy(t.data_ptr(), bytes.data() + 10 + length, data);
  return t;
}

}  // namespace halo
