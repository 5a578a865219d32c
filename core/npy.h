#pragma once
// NumPy's .npy format (version 1.0), so Python reads what Halo writes with numpy.load: a magic
// string, a header holding the dtype, order and shape, then the elements in C order.
#include <ATen/core/Tensor.h>

#include <string>

namespace halo {

// The file's bytes for a CPU tensor of float32, float64, int32 or int64, any shape. Throws
// Error for another dtype.
std::string npy_bytes(const at::Tensor& t);
// The tensor in such bytes (C order, little-endian, one of those dtypes); Error naming `where`
// and what is wrong otherwise.
at::Tensor npy_tensor(const std::string& bytes, const std::string& where);

}  // namespace halo
