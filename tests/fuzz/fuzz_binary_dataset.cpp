// Halo's binary dataset format (an archive: magic, version, table, checksummed sections) on
// arbitrary bytes.
#include "core/error.h"
#include "datasets/binary_cache.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = halo::fuzz::write("dataset.halo", {reinterpret_cast<const char*>(data), size});
  try {
    halo::load_binary(path);
  } catch (const halo::Error&) {
  }
  return 0;
}
