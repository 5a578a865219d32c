#include "core/blas_check.h"

#include <link.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace halo {

std::string loaded_blas() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
        if (name.find("libblas.so") != std::string::npos || name.find("libopenblas") != std::string::npos) {
          std::error_code ec;
          const auto real = std::filesystem::canonical(name, ec);
          *static_cast<std::string*>(out) = ec ? name : real.string();
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

void warn_if_reference_blas() {
  const std::string blas = loaded_blas();
  if (blas.find("/blas/") != std::string::npos && blas.find("openblas") == std::string::npos) {
    spdlog::warn(
        "the reference BLAS is loaded ({}): dense layers run ~20x slower. Install libopenblas0-openmp "
        "(scripts/setup.sh does) or select it with update-alternatives --config libblas.so.3-$(arch)-linux-gnu",
        blas);
  } else {
    spdlog::debug("BLAS: {}", blas.empty() ? "none loaded" : blas);
  }
}

}  // namespace halo
