#!/usr/bin/env bash
# GEMM at the layers' shapes in one run: Halo's BLAS path with the kernel set it chooses, with
# each OpenBLAS kernel set this CPU runs, and PyPI torch with MKL (the peers' venv), as one
# table of GFLOP/s and each column's ratio to MKL.
# Usage: bench/gemm_bench.sh [THREADS]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
threads=${1:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cmake --build "$build" --target gemm_bench >/dev/null
"$build/bench/gemm_bench" --threads "$threads" >"$out/0-halo.jsonl"
for kernel in Prescott Sandybridge Haswell Zen SkylakeX Cooperlake; do
  # A kernel set the CPU lacks the instructions for dies (SIGILL); OpenBLAS itself may also
  # fall back to another set, which the table then shows once.
  if ! OPENBLAS_CORETYPE=$kernel "$build/bench/gemm_bench" --keep-kernel --threads "$threads" \
      >"$out/1-$kernel.jsonl" 2>/dev/null; then
    echo "OPENBLAS_CORETYPE=$kernel: does not run on this CPU" >&2
    rm -f "$out/1-$kernel.jsonl"
  fi
done
python="$(bash bench/peers/venv.sh)"
"$python" bench/gemm_mkl.py "$threads" >"$out/2-mkl.jsonl"

python3 - "$out" <<'PY'
import glob, json, os, sys
runs = []  # (column title, {(shape, product): gflops})
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    if not lines:
        continue
    first = lines[0]
    title = f"{first['kernel']} ({first['chosen_by']})" if "halo" in path else first["kernel"]
    if any(t.split(" (")[0] == first["kernel"] for t, _ in runs[1:]) and "halo" not in path:
        continue  # OpenBLAS fell back to a set already shown
    runs.append((title, {(l["shape"], l["product"]): l["gflops"] for l in lines}))
mkl = runs[-1][1]
print(f"float32 GEMM, GFLOP/s on {json.loads(open(glob.glob(os.path.join(sys.argv[1], '0-*'))[0]).readline())['threads']} threads (ratio to MKL)\n")
print("| shape | product | " + " | ".join(t for t, _ in runs) + " |")
print("|---|---|" + "---|" * len(runs))
for key in runs[0][1]:
    cells = [f"{r[key]:.0f} ({r[key] / mkl[key]:.2f}x)" for _, r in runs]
    print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
PY
