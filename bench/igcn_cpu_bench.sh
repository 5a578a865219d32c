#!/usr/bin/env bash
# Halo's CPU inference against PyTorch Geometric's, same weights, same CPU: trains a 2-layer GCN
# (hidden 16, row-normalised features, 200 epochs) on Cora and PubMed with Halo, times Halo's
# inference with `halo igcn --json` (its fastest path: sparse input rows; warm, median of >= 21
# runs) and PyG's inference of the exported weights (bench/peers/pyg_gcn_inference.py: GCNConv,
# cached, its fastest input; same thread count, median of >= 21 runs), checks that both classify
# the nodes alike (every node with `halo predict`, where the binary has it; else the accuracy on
# each split), and prints one markdown table with the BLAS and threads each side ran. Never part
# of CI. Takes 16 s on 2 cores once the venv exists; run it on an otherwise idle machine.
#
#   bash bench/igcn_cpu_bench.sh
#
# HALO: the halo binary (default build/launch/halo); HALO_DATA: the datasets' folder (default
# ../shared/datasets beside the clone); THREADS: threads for both sides (default: Halo's, all cores). PyG runs in
# the peers' venv (bench/peers/venv.sh: PEERS_VENV, default /tmp/halo-peers-venv, made on first
# use: ~3 GB from PyPI and some minutes); where it cannot be made, the table has Halo's columns only.
# Everything else goes into a temporary folder, removed at exit.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; }
case ${1:-} in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "igcn_cpu_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/bench/peers
HALO=${HALO:-$ROOT/build/launch/halo}
DATA=${HALO_DATA:-$ROOT/../shared/datasets}
DATASETS=(cora pubmed)
THREAD_FLAG=()
if [[ -n ${THREADS:-} ]]; then THREAD_FLAG=(--threads "$THREADS"); fi

die() { echo "igcn_cpu_bench.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
# json_number FILE KEY: the last number under "KEY" in FILE (Halo's compact JSON).
json_number() { grep -o "\"$2\":[-0-9.e]*" "$1" | tail -n 1 | cut -d: -f2; }

[[ -x $HALO ]] || die "no Halo binary at $HALO: build Halo first (bash scripts/setup.sh) or set HALO=/path/to/halo"
for d in "${DATASETS[@]}"; do [[ -f $DATA/$d/edges.txt ]] || die "no dataset $DATA/$d (set HALO_DATA)"; done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PY=$(bash "$PEERS/venv.sh") || { echo "igcn_cpu_bench.sh: no peers' venv (see above): Halo's columns only" >&2; PY=""; }
export PYTHONDONTWRITEBYTECODE=1
PREDICT=0  # halo predict: every node's class, for a node by node comparison
# Captured first: grep -q on a pipe would stop halo early, and pipefail would count that a failure.
commands=$("$HALO" --help 2>&1 || true)
if grep -q '^ *predict ' <<< "$commands"; then PREDICT=1; fi
LOAD=$(cut -d' ' -f1 /proc/loadavg)
log "load average $LOAD on $(nproc) cores before the runs"

# plain_copy NAME: the dataset as load_plain.py reads it, in WORK (its npy/ cache lands there, not
# in DATA); PubMed ships features_partial.txt, which Halo reads in place of features.txt.
plain_copy() {
  local src=$DATA/$1 dst=$WORK/plain/$1 f
  mkdir -p "$dst"
  for f in meta.txt labels.txt edges.txt train.txt val.txt test.txt; do ln -s "$src/$f" "$dst/$f"; done
  if [[ -f $src/features.txt ]]; then
    ln -s "$src/features.txt" "$dst/features.txt"
  else
    ln -s "$src/features_partial.txt" "$dst/features.txt"
  fi
}

# halo_step LOG ARGS...: halo ARGS with its stderr in LOG, which is shown when it fails.
halo_step() {
  local log=$1
  shift
  "$HALO" "${THREAD_FLAG[@]}" "$@" 2> "$log" || { tail -n 5 "$log" >&2; die "halo $1 failed (log above)"; }
}

RESULTS=$WORK/results.jsonl
ROWS=()  # without the venv: Halo's columns only
for d in "${DATASETS[@]}"; do
  dir=$WORK/$d
  mkdir -p "$dir"
  log "$d: training with Halo"
  halo_step "$dir/train.log" train "$DATA/$d" --model gcn --hidden 16 --layers 2 --normalize-features --epochs 200 \
    --checkpoint "$dir/ckpt" --export "$dir/weights.pt" --metrics "$dir/metrics.jsonl" > /dev/null
  log "$d: Halo's inference (halo igcn)"
  halo_step "$dir/igcn.log" igcn "$DATA/$d" --normalize-features --model "$dir/ckpt" --json > "$dir/igcn.json"
  BLAS_HALO=${BLAS_HALO:-$(grep -m1 -o 'BLAS: .*' "$dir/igcn.log" || echo 'no start-up report')}
  threads=$(json_number "$dir/igcn.json" cpu_threads)
  if [[ -z $PY ]]; then
    ROWS+=("$(printf '| %s | GCN, 2 layers, hidden 16; threads: %s | %.3g ms | – | – | – (Halo test acc %s) |' "$d" \
      "$threads" "$(awk -v s="$(json_number "$dir/igcn.json" cpu_inference_s)" 'BEGIN { print s * 1e3 }')" \
      "$(tail -n 1 "$dir/metrics.jsonl" | grep -o '"test_acc":[0-9.e-]*' | cut -d: -f2)")")
    continue
  fi
  compare=(--halo-igcn "$dir/igcn.json" --halo-metrics "$dir/metrics.jsonl")
  if ((PREDICT)); then
    halo_step "$dir/predict.log" predict "$DATA/$d" --normalize-features --model "$dir/ckpt" -o "$dir/predict" > /dev/null
    compare+=(--halo-predictions "$dir/predict")
  fi
  log "$d: PyG's inference of the same weights ($threads threads)"
  plain_copy "$d"
  OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$PY" "$PEERS/pyg_gcn_inference.py" "$WORK/plain/$d" \
    "$dir/weights.pt" --threads "$threads" "${compare[@]}" >> "$RESULTS"
done

echo
echo "## CPU inference, Halo vs PyG: a 2-layer GCN (hidden 16) trained by Halo, the same weights; $(date -u +%F)"
echo
HEAD="| dataset | model | Halo inference (median of ≥ 21) | PyG inference, same weights (median of N) | Halo / PyG | predictions agree |
|---|---|---:|---:|---:|---|"
if [[ -z $PY ]]; then
  printf '%s\n' "$HEAD" "${ROWS[@]}"
else
  "$PY" - "$RESULTS" "$HEAD" << 'EOF'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
ms = lambda s: f"{s * 1e3:.3g} ms"
accs = lambda side: "/".join(f"{side['acc'][s]:.3f}" for s in ("train", "val", "test"))
print(sys.argv[2])
for r in rows:
    h = r["halo"]
    if "nodes_differ" in r:
        same = r["nodes_differ"] == 0 and r["same_accuracy"]
        how = (f"{r['nodes'] - r['nodes_differ']} of {r['nodes']} nodes' classes equal (probabilities within "
               f"{r['max_probability_diff']:.1e}); ")
    else:
        same, how = r["same_accuracy"], ""
    print(f"| {r['graph']} | GCN, 2 layers, hidden 16; threads: {h['threads']} | {ms(h['median_s'])} "
          f"| {ms(r['median_s'])} ({r['input']}, N = {r['runs']}) | {h['median_s'] / r['median_s']:.2f} "
          f"| {'yes' if same else 'NO'}: {how}train/val/test accuracy Halo {accs(h)}, PyG {accs(r)} |")
print("\nHalo / PyG below 1: Halo is faster. Halo: `halo igcn --json` cpu_inference_s (sparse input rows). PyG: "
      "GCNConv(cached=True) on the dense row-normalised features, torch.inference_mode(); its fastest input is "
      "shown (sparse_tensor: torch_sparse SparseTensor adj_t; edge_index: [2, E]); each input's median: " + "; ".join(
          r["graph"] + " " + ", ".join(f"{k} {ms(v['median_s'])} (N = {v['runs']})" for k, v in r["inputs"].items()) +
          ("" if r["inputs_agree"] else " (their classes differ)") for r in rows) + ".")
print(f"\nPyG: {rows[0]['torch']}")
EOF
fi
echo
echo "Halo: $BLAS_HALO"
for d in "${DATASETS[@]}"; do
  if [[ ! -f $DATA/$d/features.txt ]]; then
    echo "$d: features of $(cut -d' ' -f1 "$DATA/$d/features_partial.txt" | uniq | wc -l) nodes only" \
      "(features_partial.txt; see $DATA/$d/README.md), hence its accuracy."
  fi
done
echo "Load average before the runs: $LOAD on $(nproc) cores."
