#include "core/index_tensor.h"

#include <ATen/Functions.h>

#include <vector>

namespace halo {

at::Tensor index_tensor(c10::ArrayRef<int32_t> ids, at::Device device) {
  return at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).to(device);
}

at::Tensor index_tensor(c10::ArrayRef<int64_t> ids, at::Device device) { return at::tensor(ids, at::kLong).to(device); }

}  // namespace halo
