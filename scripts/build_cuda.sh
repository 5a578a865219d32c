#!/usr/bin/env bash
# Builds Halo into build-cuda/ against the CUDA LibTorch of a Python torch installation (what a
# GPU machine offers), with the NCCL backend that torch ships:
#   PYTHON=python3 scripts/build_cuda.sh [more cmake arguments]
# HALO_TARGETS="halo ..." builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=${CUDA_HOME:-/usr/local/cuda}
cmake_dir=$("${PYTHON:-python3}" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
torch_root=$(dirname "$(dirname "$cmake_dir")")
# The second prefix finds torch/lib/libtorch.so before the system's CPU libtorch.so.
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DHALO_BUILD_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$cmake_dir;$torch_root" -DCUDAToolkit_ROOT="$cuda" -DCMAKE_CUDA_COMPILER="$cuda/bin/nvcc" "$@"
ninja -C build-cuda ${HALO_TARGETS:-}
