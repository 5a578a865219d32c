#!/usr/bin/env bash
# The prepared GPU check: on a machine with a GPU and a pip torch built with CUDA, builds Halo's
# CUDA path against it (scripts/build_cuda.sh), runs the DevicePath tests on 1 and 2 ranks (the
# model, features, graph and optimizer on the GPU; K ranks against one process) and times a GCN
# 2x256 epoch on the 200k-node community graph on the GPU against the CPU, then prints one table.
# About 8 minutes on 16 cores, most of it the build.
#
#   scripts/gpu_check.sh [OUT_DIR]      (default build-cuda/gpu_check; must be new or empty)
#
# Needs Halo's Debian packages (installed here unless SKIP_SETUP=1; a machine without network needs
# them in place) and PYTHON (default python3) whose torch has CUDA. Exit code 1 if a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
out=${1:-build-cuda/gpu_check}
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "gpu_check: $out is not empty; give a new folder" >&2
  exit 2
fi
mkdir -p "$out"
fail() {
  echo "gpu_check: $*" >&2
  exit 1
}
"$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  fail "$py has no torch that sees a GPU (pip install torch with CUDA; check nvidia-smi)"
gpu=$("$py" -c 'import torch; print(torch.cuda.get_device_name(0))')
torch_version=$("$py" -c 'import torch; print(torch.__version__)')

[ "${SKIP_SETUP:-0}" = 1 ] || HALO_SETUP=packages scripts/setup.sh
start=$SECONDS
HALO_TARGETS="halo halo_mpi_tests" PYTHON="$py" scripts/build_cuda.sh >"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; fail "the CUDA build failed (log: $out/build.log)"; }
build_s=$((SECONDS - start))

[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# device_tests RANKS: the DevicePath tests on RANKS ranks (rank 0 prints gtest's summary).
device_tests() {
  local log="$out/device_path_$1.log" rc=0
  mpirun --oversubscribe --bind-to none -np "$1" build-cuda/tests/halo_mpi_tests --gtest_filter='DevicePath.*' --gtest_color=no \
    >"$log" 2>&1 || rc=$?
  count() {
    local n
    n=$(sed -n "s/^\[  $1 *\] \([0-9]*\) tests\{0,1\}[.,].*/\1/p" "$log" | head -n 1)
    echo "${n:-0}"
  }
  printf 'exit %s: passed %s, skipped %s, failed %s' "$rc" "$(count PASSED)" "$(count SKIPPED)" "$(count FAILED)"
}
tests_1=$(device_tests 1)
tests_2=$(device_tests 2)

halo=build-cuda/launch/halo
graph="community:nodes=200000,degree=50,features=128"
"$halo" generate "$graph" -o "$out/graph.halo" >"$out/generate.log" 2>&1 || fail "halo generate $graph failed"
# epoch DEVICE: the median training epoch (seconds) of GCN 2x256 over 20 epochs, the first left out.
epoch() {
  "$halo" train "$out/graph.halo" --model gcn --hidden 256 --epochs 20 --eval-every 1000 --device "$1" \
    --metrics "$out/$1.jsonl" >"$out/train_$1.log" 2>&1 || { echo failed; return; }
  "$py" - "$out/$1.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{statistics.median(r['epoch_seconds'] for r in rows[1:]):.4f}")
PY
}
gpu_s=$(epoch cuda)
cpu_s=$(epoch cpu)
speedup=$(awk -v g="$gpu_s" -v c="$cpu_s" 'BEGIN { if (g > 0 && c > 0) printf "%.1fx", c / g; else print "-" }')

echo
echo "| check | result |"
echo "| --- | --- |"
echo "| GPU, torch | $gpu, torch $torch_version |"
echo "| CUDA build (halo, halo_mpi_tests) | ${build_s} s |"
echo "| DevicePath tests, 1 rank | $tests_1 |"
echo "| DevicePath tests, 2 ranks | $tests_2 |"
echo "| GCN 2x256 epoch, $graph, GPU | $gpu_s s |"
echo "| the same on the CPU ($(nproc) cores) | $cpu_s s |"
echo "| GPU speed-up | $speedup |"
echo "logs: $out"
for t in "$tests_1" "$tests_2"; do
  [[ $t == "exit 0: passed "[1-9]*", skipped 0, failed 0" ]] || fail "the DevicePath tests did not all pass and run ($t; logs in $out)"
done
[ "$gpu_s" != failed ] && [ "$cpu_s" != failed ] || fail "a timing run failed (logs in $out)"
