#pragma once
// How halo rows and gradients travel (--halo-precision): as they are (fp32: the rows' own
// dtype), rounded to bf16 or fp16 (round to nearest even), or as int8 with one float32 scale
// per row (max |x| / 127) and stochastic rounding, so a decoded row is unbiased: E[decode] = x,
// each element within one quantization step (the scale) of x. The rounding draws are keyed
// (core/counter_rng.h), so a run repeats bit for bit.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace halo {

enum class HaloPrecision { fp32, bf16, fp16, int8 };

// "fp32", "bf16", "fp16", "int8"; parse_halo_precision throws UsageError naming the choices.
std::string to_string(HaloPrecision precision);
HaloPrecision parse_halo_precision(const std::string& name);

// Bytes one row of `width` elements like `rows` takes on the wire.
int64_t wire_row_bytes(HaloPrecision precision, const at::Tensor& rows);

// source: [m, F] float32 or float64; index: int64 [n] rows of it -> wire: [n, wire_row_bytes]
// uint8 (preallocated), row i encoding source[index[i]] with rounding draws keyed by (key, i).
// Not for fp32, which sends the rows themselves. int8 runs on the CPU only (UsageError elsewhere).
void encode_rows(const at::Tensor& source, const at::Tensor& index, HaloPrecision precision, uint64_t key,
                 at::Tensor& wire);
// The inverse: wire [n, wire_row_bytes] -> rows [n, F] (preallocated, the original dtype).
void decode_rows(const at::Tensor& wire, HaloPrecision precision, at::Tensor& rows);

}  // namespace halo
