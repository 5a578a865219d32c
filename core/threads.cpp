#include "core/threads.h"

#include <ATen/Parallel.h>

#include <thread>

namespace halo {

std::unique_ptr<tbb::global_control> use_threads(int n) {
  const int count = n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(count);
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, count);
}

}  // namespace halo
