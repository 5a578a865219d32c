#include "comm/halo_codec.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/counter_rng.h"
#include "core/error.h"

namespace halo {
namespace {

constexpr int64_t kScaleBytes = sizeof(float);

at::ScalarType half_type(HaloPrecision p) { return p == HaloPrecision::bf16 ? at::kBFloat16 : at::kHalf; }

void check_cpu(const at::Tensor& t) {
  if (!t.device().is_cpu()) {
    throw UsageError(fmt::format("--halo-precision int8 runs on the CPU only (rows on {}); use bf16 or fp16 there",
                                 t.device().str()));
  }
}

// Row: [scale as float32 | F int8]. q = floor(x / scale + u), u uniform in [0, 1) from 16 random
// bits (four per draw), so E[q] = x / scale up to 2^-16 of a step. The floor is a truncation of
// v + 128 > 0, which compilers vectorise (std::floor is a call without SSE4.1).
template <class T>
void encode_int8(const at::Tensor& source, const at::Tensor& index, uint64_t key, at::Tensor& wire) {
  const int64_t n = index.size(0), width = source.size(1), stride = wire.size(1);
  const T* x = source.data_ptr<T>();
  const int64_t* rows = index.data_ptr<int64_t>();
  uint8_t* out = wire.data_ptr<uint8_t>();
  const int64_t draws = (width + 3) / 4;
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    std::vector<uint64_t> bits(static_cast<size_t>(draws));
    for (int64_t i = begin; i < end; ++i) {
      const T* row = x + rows[i] * width;
      // A NaN, an infinity or a magnitude beyond float's range makes the scale NaN, and so the
      // decoded row: not silently finite.
      T max = 0;
      int not_finite = 0;
      for (int64_t j = 0; j < width; ++j) {
        const T a = std::abs(row[j]);
        max = a > max ? a : max;
        not_finite |= !(a <= static_cast<T>(std::numeric_limits<float>::max()));
      }
      uint8_t* w = out + i * stride;
      auto* q = reinterpret_cast<int8_t*>(w + kScaleBytes);
      if (not_finite) {  // levels of zero: a NaN level would be undefined as an int
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(w, &nan, kScaleBytes);
        std::memset(q, 0, static_cast<size_t>(width));
        continue;
      }
      // Below 127 x the smallest normal float a row is sent as zeros (its scale would be
      // subnormal and its inverse infinite); at the top, decoding's 127 x scale must stay finite.
      float scale = static_cast<float>(max) < 127.0f * std::numeric_limits<float>::min()
                        ? 0.0f
                        : static_cast<float>(max) / 127.0f;
      if (!std::isfinite(127.0f * scale)) scale = std::nextafter(scale, 0.0f);
      std::memcpy(w, &scale, kScaleBytes);
      const T inverse = scale > 0 ? T(1) / static_cast<T>(scale) : T(0);
      CounterRng rng(key, static_cast<uint64_t>(i) * static_cast<uint64_t>(draws));
      for (uint64_t& b : bits) b = rng.next();
      const auto* u16 = reinterpret_cast<const uint16_t*>(bits.data());
      for (int64_t j = 0; j < width; ++j) {
        const T v = row[j] * inverse + static_cast<T>(u16[j]) * static_cast<T>(1.0 / 65536) + T(128);
        // Clamped before the cast: a subnormal scale overflows the inverse, and a float outside
        // int's range has no defined conversion. In [1, 255] truncation is the floor.
        const T clamped = std::min(T(255), std::max(T(1), v));
        q[j] = static_cast<int8_t>(static_cast<int>(clamped) - 128);
      }
    }
  });
}

template <class T>
void decode_int8(const at::Tensor& wire, at::Tensor& rows) {
  const int64_t n = rows.size(0), width = rows.size(1), stride = wire.size(1);
  const uint8_t* in = wire.data_ptr<uint8_t>();
  T* x = rows.data_ptr<T>();
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float scale;
      std::memcpy(&scale, in + i * stride, kScaleBytes);
      const auto* q = reinterpret_cast<const int8_t*>(in + i * stride + kScaleBytes);
      for (int64_t j = 0; j < width; ++j) x[i * width + j] = static_cast<T>(q[j]) * static_cast<T>(scale);
    }
  });
}

}  // namespace

std::string to_string(HaloPrecision p) {
  switch (p) {
    case HaloPrecision::fp32:
      return "fp32";
    case HaloPrecision::bf16:
      return "bf16";
    case HaloPrecision::fp16:
      return "fp16";
    case HaloPrecision::int8:
      return "int8";
  }
  return "?";
}

HaloPrecision parse_halo_precision(const std::string& name) {
  for (HaloPrecision p : {HaloPrecision::fp32, HaloPrecision::bf16, HaloPrecision::fp16, HaloPrecision::int8}) {
    if (to_string(p) == name) return p;
  }
  throw UsageError(fmt::format("halo precision '{}': expected fp32, bf16, fp16 or int8", name));
}

int64_t wire_row_bytes(HaloPrecision p, const at::Tensor& rows) {
  const int64_t width = rows.size(1);
  switch (p) {
    case HaloPrecision::fp32:
      return width * static_cast<int64_t>(rows.element_size());
    case HaloPrecision::bf16:
    case HaloPrecision::fp16:
      return width * 2;
    case HaloPrecision::int8:
      return kScaleBytes + width;
  }
  return 0;
}

void encode_rows(const at::Tensor& source, const at::Tensor& index, HaloPrecision p, uint64_t key, at::Tensor& wire) {
  if (p == HaloPrecision::int8) {
    check_cpu(source);
    const at::Tensor x = source.contiguous();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "encode_int8", [&] { encode_int8<scalar_t>(x, index, key, wire); });
  } else if (p != HaloPrecision::fp32) {
    wire.view(half_type(p)).copy_(source.index_select(0, index));
  } else {
    throw Error("encode_rows: fp32 rows travel as they are");
  }
}

void decode_rows(const at::Tensor& wire, HaloPrecision p, at::Tensor& rows) {
  if (p == HaloPrecision::int8) {
    check_cpu(rows);
    AT_DISPATCH_FLOATING_TYPES(rows.scalar_type(), "decode_int8", [&] { decode_int8<scalar_t>(wire, rows); });
  } else if (p != HaloPrecision::fp32) {
    rows.copy_(wire.view(half_type(p)));
  } else {
    throw Error("decode_rows: fp32 rows travel as they are");
  }
}

}  // namespace halo
