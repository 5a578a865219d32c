#pragma once
// Integer ids (rows, columns, node ids) as the int64 tensor that index_select and its kin take.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>

namespace halo {

at::Tensor index_tensor(c10::ArrayRef<int32_t> ids, at::Device device = at::kCPU);
at::Tensor index_tensor(c10::ArrayRef<int64_t> ids, at::Device device = at::kCPU);

}  // namespace halo
