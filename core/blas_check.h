#pragma once
// Debian's LibTorch calls whichever libblas.so.3 the alternatives system selects; the
// reference BLAS is 20-30x slower than OpenBLAS, so Halo says at start-up which one it got.
#include <string>

namespace halo {

// Resolved path of the libblas.so.3 mapped into this process ("" if none is).
std::string loaded_blas();

// Logs a warning naming the library and the fix when the reference BLAS is loaded.
void warn_if_reference_blas();

}  // namespace halo
