#!/usr/bin/env bash
# Sets Halo up (dependencies + build) and runs the demo on its embedded default: a generated
# community graph, partitioned with METIS into one part per rank.
# Usage: scripts/demo.sh [ranks]   (default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-4}
scripts/setup.sh
out=${HALO_DEMO_DIR:-build/demo}
mkdir -p "$out"
build/launch/halo partition community --parts "$ranks" -o "$out/parts"
build/launch/halo train community --model gcn --hidden 64 --epochs 100 --metrics "$out/metrics.jsonl"
