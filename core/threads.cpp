#include "core/threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace halo {

namespace {

// Ranks the MPI launcher started on this host (OpenMPI's, then MPICH's variable), 1 otherwise.
// Read before MPI starts, so the thread pools are sized once.
int ranks_on_this_host() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* value = std::getenv(name)) return std::max(1, std::atoi(value));
  }
  return 1;
}

int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace

int max_threads() { return 4 * cores(); }

std::unique_ptr<tbb::global_control> use_threads(int n) {
  const int count = n > 0 ? n : std::max(1, cores() / ranks_on_this_host());
  at::set_num_threads(count);
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, count);
}

}  // namespace halo
