#include "accel_model/spy_plot.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"

namespace halo {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A PNG chunk: length, type, data, CRC-32 of type and data.
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

// An 8-bit RGB PNG (colour type 2, no interlace); each row starts with filter type 0.
std::string encode_png(const std::vector<uint8_t>& rgb, int32_t side) {
  std::string raw;
  raw.reserve(static_cast<size_t>(side) * (3 * side + 1));
  for (int32_t y = 0; y < side; ++y) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(rgb.data()) + static_cast<size_t>(y) * 3 * side, 3 * side);
  }
  uLongf packed_size = compressBound(raw.size());
  std::string packed(packed_size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
            raw.size(), Z_BEST_COMPRESSION);
  packed.resize(packed_size);

  std::string header;
  put_u32(header, side);
  put_u32(header, side);
  header += std::string{8, 2, 0, 0, 0};  // bit depth, colour type, compression, filter, interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  put_chunk(png, "IHDR", header);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

}  // namespace

std::vector<int32_t> island_order(const Islands& s) {
  std::vector<int32_t> position(s.island_of.size());
  int32_t next = 0;
  for (int32_t v : s.nodes) position[v] = next++;
  for (int32_t h : s.hubs) position[h] = next++;
  return position;
}

void write_spy_plot(const Graph& g, const Islands& s, const std::string& path, int32_t max_pixels) {
  const int64_t n = std::max<int64_t>(1, g.num_nodes());
  const auto side = static_cast<int32_t>(std::min<int64_t>(n, max_pixels));
  auto pixel = [&](int32_t position) { return static_cast<int64_t>(position) * side / n; };
  const std::vector<int32_t> position = island_order(s);
  std::vector<uint32_t> count(static_cast<size_t>(side) * side, 0);
  for (int32_t v = 0; v < g.num_nodes(); ++v) {
    const int64_t y = pixel(position[v]);
    for (int32_t u : g.in_neighbors(v)) ++count[y * side + pixel(position[u])];
  }
  const double top =
      std::log1p(static_cast<double>(std::max<uint32_t>(1, *std::max_element(count.begin(), count.end()))));
  std::vector<uint8_t> rgb(count.size() * 3, 255);
  for (size_t i = 0; i < count.size(); ++i) {
    if (count[i] == 0) continue;
    // One entry is mid grey, the fullest pixel black.
    const auto shade = static_cast<uint8_t>(160.0 * (1.0 - std::log1p(count[i]) / top));
    std::fill_n(rgb.begin() + static_cast<int64_t>(3 * i), 3, shade);
  }
  const int64_t hubs_from = pixel(static_cast<int32_t>(s.nodes.size()));
  if (!s.hubs.empty() && hubs_from < side) {
    for (int32_t t = 0; t < side; ++t) {
      for (size_t cell : {static_cast<size_t>(hubs_from * side + t), static_cast<size_t>(t * side + hubs_from)}) {
        rgb[3 * cell] = 220, rgb[3 * cell + 1] = 40, rgb[3 * cell + 2] = 40;
      }
    }
  }
  write_file_atomically(path, encode_png(rgb, side));
}

}  // namespace halo
