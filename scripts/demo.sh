#!/usr/bin/env bash
# Sets Halo up (dependencies + build) and runs the demo on its embedded default: a generated
# community graph, partitioned with METIS into one part per rank, trained with mpirun.
# Usage: scripts/demo.sh [ranks]   (default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-4}
HALO_TARGETS=halo scripts/setup.sh  # the tests and benchmarks are built by scripts/test.sh
out=${HALO_DEMO_DIR:-build/demo}
mkdir -p "$out"
# --overwrite: a second run replaces the partition the first one wrote (only its own files).
build/launch/halo partition community --parts "$ranks" -o "$out/parts" --overwrite
# OpenMPI refuses to run as root unless told; --oversubscribe allows more ranks than cores and
# --bind-to none lets each rank's threads use any core.
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe --bind-to none -np "$ranks" \
  build/launch/halo train --parts "$out/parts" --model gcn --hidden 64 --epochs 100 --metrics "$out/metrics.jsonl"
