#!/usr/bin/env bash
# GEMM at the layers' shapes in one run: Halo's products as it runs them (core/gemm: oneDNN or
# the BLAS with the kernel set it chooses, by product), oneDNN alone, the BLAS alone with each
# OpenBLAS kernel set this CPU runs, and PyPI torch with MKL (the peers' venv), as one table of
# GFLOP/s and each column's ratio to MKL.
# Usage: bench/gemm_bench.sh [THREADS]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
threads=${1:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cmake --build "$build" --target gemm_bench >/dev/null
"$build/bench/gemm_bench" --threads "$threads" >"$out/0-halo.jsonl"
HALO_GEMM=onednn "$build/bench/gemm_bench" --threads "$threads" >"$out/1-onednn.jsonl"
for kernel in Prescott Sandybridge Haswell Zen SkylakeX Cooperlake; do
  # A kernel set the CPU lacks the instructions for dies (SIGILL); OpenBLAS itself may also
  # fall back to another set, which the table then shows once.
  if ! HALO_GEMM=blas OPENBLAS_CORETYPE=$kernel "$build/bench/gemm_bench" --keep-kernel --threads "$threads" \
      >"$out/2-$kernel.jsonl" 2>/dev/null; then
    echo "OPENBLAS_CORETYPE=$kernel: does not run on this CPU" >&2
    rm -f "$out/2-$kernel.jsonl"
  fi
done
python="$(bash bench/peers/venv.sh)"
"$python" bench/gemm_mkl.py "$threads" >"$out/3-mkl.jsonl"

python3 - "$out" <<'PY'
import glob, json, os, sys
runs = []  # (column title, {(shape, product): gflops}, {(shape, product): path} for Halo's column)
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    if not lines:
        continue
    first = lines[0]
    name = os.path.basename(path)
    if name.startswith("0-"):
        title = f"Halo (BLAS: {first['kernel']}, chosen by {first['chosen_by']})"
    elif name.startswith("1-"):
        title = f"{first['path']} alone"
    elif name.startswith("2-"):
        title = f"OpenBLAS {first['kernel']}"
        if any(t == title for t, _, _ in runs):
            continue  # OpenBLAS fell back to a set already shown
    else:
        title = first["kernel"]
    runs.append((title, {(l["shape"], l["product"]): l["gflops"] for l in lines},
                 {(l["shape"], l["product"]): l.get("path") for l in lines} if name.startswith("0-") else {}))
mkl = runs[-1][1]
print(f"float32 GEMM, GFLOP/s on {json.loads(open(glob.glob(os.path.join(sys.argv[1], '0-*'))[0]).readline())['threads']} threads (ratio to MKL)\n")
print("| shape | product | " + " | ".join(t for t, _, _ in runs) + " |")
print("|---|---|" + "---|" * len(runs))
for key in runs[0][1]:
    cells = [f"{r[key]:.0f} ({r[key] / mkl[key]:.2f}x{', ' + p[key] if p else ''})" for _, r, p in runs]
    print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
PY
