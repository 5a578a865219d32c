#!/usr/bin/env bash
# Scale on one machine: a large generated graph (products-sim, ogbn-products' shape: 2.45 M nodes,
# 120 M edges) partitioned into K parts and trained on K oversubscribed ranks, one table: for each
# K and strategy, set-up time (the job's wall time less its epochs and evaluations), the median
# epoch after the first (the pipeline's first is synchronous), one evaluation, peak RSS per rank
# (the largest and the sum, from each rank's own /usr/bin/time), the machine's peak memory in use
# (MemTotal - MemAvailable, sampled every second) and swap used, and the final loss.
#   bench/scale_bench.sh [BUILD_DIR]
#   env: DATASET=products-sim RANKS="4 8" SYNCS="sampled pipeline" P=0.1 EPOCHS=3 MODEL=sage LAYERS=3
#        HIDDEN=256 PARTITIONS=DIR (holds parts4, parts8, ...: reused, or made there; default a
#        temporary folder, removed after)
set -euo pipefail
build=$(realpath "${1:-build}")
halo=$build/launch/halo
dataset=${DATASET:-products-sim} ranks=${RANKS:-4 8} syncs=${SYNCS:-sampled pipeline} p=${P:-0.1}
epochs=${EPOCHS:-3} model=${MODEL:-sage} layers=${LAYERS:-3} hidden=${HIDDEN:-256}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v /usr/bin/time >/dev/null || { echo "scale_bench: needs /usr/bin/time (Debian: time)" >&2; exit 2; }
work=$(mktemp -d /tmp/halo-scale.XXXXXX)
parts_root=${PARTITIONS:-$work}
mkdir -p "$parts_root"
trap 'rm -rf "$work"' EXIT

# Memory in use on the machine (MiB) and swap used (MiB), now.
in_use() { awk '/^MemTotal/{t=$2} /^MemAvailable/{a=$2} /^SwapTotal/{st=$2} /^SwapFree/{sf=$2}
                END{printf "%d %d\n", (t-a)/1024, (st-sf)/1024}' /proc/meminfo; }

echo "$dataset, $model ${layers}x$hidden, p = $p, $epochs epochs (evaluated after the last), 1 thread per rank"
echo
echo "| ranks | strategy | set-up s | epoch s | evaluation s | peak per rank GiB | sum of rank peaks GiB | machine peak GiB | swap MiB | final loss |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for k in $ranks; do
  parts=$parts_root/parts$k
  if [ ! -f "$parts/meta.json" ]; then
    "$halo" --log-level warn partition "$dataset" --parts "$k" -o "$parts" >/dev/null
  fi
  for sync in $syncs; do
    flags="--boundary-rate $p"
    [ "$sync" = pipeline ] && flags="$flags --pipeline"
    before=$(in_use)
    rm -f "$work"/peak.*
    (while true; do in_use; sleep 1; done) >"$work/memory" &
    sampler=$!
    start=$(date +%s.%N)
    status=0
    # shellcheck disable=SC2086
    mpirun --oversubscribe --bind-to none -np "$k" bash -c '/usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
      "$work/peak" "$halo" --log-level warn --threads 1 train --parts "$parts" --model "$model" --layers "$layers" \
      --hidden "$hidden" --epochs "$epochs" --eval-every "$epochs" $flags --metrics "$work/metrics.jsonl" \
      >"$work/log" 2>&1 || status=$?
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    kill "$sampler"
    python3 - "$k" "$sync" "$wall" "$status" "$work" "$before" <<'EOF'
import glob, json, statistics, sys
k, sync, wall, status, work, before = sys.argv[1:7]
swap_before = int(before.split()[1])
records = [json.loads(l) for l in open(f"{work}/metrics.jsonl")] if status == "0" else []
# A rank killed from outside (mpirun stopping the job) leaves its file empty.
peaks = [int(t.split()[-1]) / 2**20 for t in (open(f).read() for f in glob.glob(f"{work}/peak.*")) if t.strip()]
memory = [tuple(map(int, l.split())) for l in open(f"{work}/memory") if l.strip()]
machine = max(m for m, _ in memory) / 1024 if memory else float("nan")
swap = max(s for _, s in memory) - swap_before if memory else 0
if not records:
    tail = open(f"{work}/log").read().strip().splitlines()[-3:]
    print(f"| {k} | {sync} | failed (exit {status}): {' / '.join(tail)[:160]} | | | {max(peaks, default=0):.2f} | | {machine:.1f} | {swap} | |")
    sys.exit(0)
timed = [r["epoch_seconds"] for r in records[1:]] or [records[0]["epoch_seconds"]]
evals = [r["eval_seconds"] for r in records if r.get("eval_seconds")]
setup = float(wall) - sum(r["epoch_seconds"] for r in records) - sum(evals)
print(f"| {k} | {records[0]['halo_sync']} | {setup:.0f} | {statistics.median(timed):.2f} | "
      f"{statistics.median(evals) if evals else float('nan'):.2f} | {max(peaks):.2f} | {sum(peaks):.1f} | {machine:.1f} | "
      f"{swap} | {records[-1]['loss']:.4f} |")
b = records[0]["blas"]
open(f"{work}/blas", "w").write(f"BLAS: {b['library']}, {b['kernel']} kernels ({b['gflops']} GFLOP/s on {b['threads']} "
                                f"thread); oneDNN {b['onednn']['version']} ({b['onednn']['isa']})\n")
EOF
  done
done
[ -f "$work/blas" ] && { echo; cat "$work/blas"; }
