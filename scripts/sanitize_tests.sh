#!/usr/bin/env bash
# Builds the normal test suite with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ and runs it, all but the tests labelled "long" (multi-seed accuracy runs over code
# paths the others cover): a memory error or undefined behaviour fails the test that meets it.
# scripts/test.sh runs this after the normal suite (SANITIZE=0 skips it there). Arguments go to
# ctest (e.g. -R Comm).
set -euo pipefail
cd "$(dirname "$0")/.."
# -O1, as AddressSanitizer's authors advise: a trainer.cpp compiles in 33 s instead of 75 s at -O2 -g.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
  -DHALO_SANITIZE=ON -DHALO_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan
# No leak check: OpenMPI's plug-ins leave their start-up allocations at exit and are unloaded
# before LeakSanitizer looks, so their reports carry no name to suppress. Growth of memory over
# epochs is tested directly (PipelineRanks.MemoryDoesNotGrowWithEpochs); the fuzz targets, which
# do not start MPI, check leaks.
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -LE long "$@"
