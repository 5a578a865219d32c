// The accelerator description of `halo igcn --accel FILE.json` on arbitrary bytes: a malformed
// file or a value out of range must end in an Error naming the file, never a crash.
#include "accel_model/accel_config.h"
#include "core/error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = halo::fuzz::write("accel.json", {reinterpret_cast<const char*>(data), size});
  try {
    halo::check_accel_config(halo::load_accel_config(path));
  } catch (const halo::Error&) {
  }
  return 0;
}
