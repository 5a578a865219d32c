#!/usr/bin/env bash
# Sets Halo up (dependencies + build) and runs the whole test suite, then again sanitized.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# CI runs as root; OpenMPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir build --output-on-failure -j "$(nproc)"
# The same suite built with AddressSanitizer + UBSan (SANITIZE=0 skips it).
[ "${SANITIZE:-1}" = 0 ] || scripts/sanitize_tests.sh
