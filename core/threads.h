#pragma once
// One thread count for every pool Halo uses: oneTBB (graph kernels) and LibTorch's intra-op
// pool (dense layers, BLAS). Debian's LibTorch starts with one intra-op thread, so this is
// called at start-up even without --threads.
#include <tbb/global_control.h>

#include <memory>

namespace halo {

// n threads, or for n <= 0 the cores shared among the MPI ranks on this host (all cores
// outside mpirun). The oneTBB limit holds while the returned object lives.
std::unique_ptr<tbb::global_control> use_threads(int n);
// The most threads a process may ask for: 4 per core of this host. More only add start-up time
// (100000 threads took minutes before the first line of output).
int max_threads();

}  // namespace halo
