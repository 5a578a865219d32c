#!/usr/bin/env bash
# Halo's CPU inference against PyTorch Geometric's, same weights, same CPU: trains a 2-layer GCN
# (hidden 16, row-normalised features, 200 epochs) on Cora and PubMed with Halo, times Halo's
# inference with `halo igcn --json` (its fastest path: sparse input rows; warm, median of >= 21
# runs) and PyG's inference of the exported weights (bench/peers/pyg_gcn_inference.py: GCNConv,
# cached, its fastest input; same thread count, median of >= 21 runs), checks that both
# classify the train, val and test nodes alike, and prints one markdown table with the BLAS each
# side ran. Never part of CI.
#
#   bash bench/igcn_cpu_bench.sh
#
# HALO: the halo binary (default build/launch/halo); HALO_DATA: the datasets' folder (default
# /work/shared/datasets); THREADS: threads for both sides (default: Halo's, all cores). PyG runs in
# the peers' venv (bench/peers/venv.sh: PEERS_VENV, default /tmp/halo-peers-venv, made on first
# use, ~3 GB from PyPI and several minutes); without network or venv the PyG columns read "–".
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
DATA=${HALO_DATA:-/work/shared/datasets}
DATASETS=(cora pubmed)
THREAD_FLAG=(${THREADS:+--threads "$THREADS"})

die() { echo "igcn_cpu_bench.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[[ -x $HALO ]] || die "no Halo binary at $HALO: build Halo first (bash scripts/setup.sh) or set HALO=/path/to/halo"
for d in "${DATASETS[@]}"; do [[ -f $DATA/$d/edges.txt ]] || die "no dataset $DATA/$d (set HALO_DATA)"; done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PY=""
if PY=$(bash "$PEERS/venv.sh"); then
  export PYTHONDONTWRITEBYTECODE=1
else
  echo "igcn_cpu_bench.sh: no peers' venv (see above): Halo's columns only" >&2
  PY=""
fi

# plain_copy NAME: the dataset as load_plain.py reads it, in WORK (its npy/ cache lands there,
# not in DATA); PubMed ships features_partial.txt, which Halo reads in place of features.txt.
plain_copy() {
  local src=$DATA/$1 dst=$WORK/$1/plain f
  mkdir -p "$dst"
  for f in meta.txt labels.txt edges.txt train.txt val.txt test.txt; do ln -s "$src/$f" "$dst/$f"; done
  if [[ -f $src/features.txt ]]; then ln -s "$src/features.txt" "$dst/features.txt"
  else ln -s "$src/features_partial.txt" "$dst/features.txt"; fi
}

# json_number FILE KEY: the last number under "KEY" in FILE (Halo's compact JSON).
json_number() { grep -o "\"$2\":[-0-9.e]*" "$1" | tail -n 1 | cut -d: -f2; }

RESULTS=$WORK/results.jsonl
HALO_ROWS=()  # without the venv: Halo's columns only
for d in "${DATASETS[@]}"; do
  dir=$WORK/$d
  mkdir -p "$dir"
  log "$d: training with Halo"
  "$HALO" "${THREAD_FLAG[@]}" train "$DATA/$d" --model gcn --hidden 16 --layers 2 --normalize-features \
    --epochs 200 --checkpoint "$dir/ckpt" --export "$dir/weights.pt" --metrics "$dir/metrics.jsonl" \
    > "$dir/train.log" 2>&1 || { tail -n 5 "$dir/train.log" >&2; die "halo train $d failed"; }
  log "$d: Halo's inference (halo igcn)"
  "$HALO" "${THREAD_FLAG[@]}" igcn "$DATA/$d" --normalize-features --model "$dir/ckpt" --json \
    > "$dir/igcn.json" 2> "$dir/igcn.log" || { tail -n 5 "$dir/igcn.log" >&2; die "halo igcn $d failed"; }
  BLAS_HALO=${BLAS_HALO:-$(grep -m1 -o 'BLAS: .*' "$dir/igcn.log" || echo 'no start-up report')}
  threads=$(json_number "$dir/igcn.json" cpu_threads)
  if [[ -n $PY ]]; then
    log "$d: PyG's inference of the same weights ($threads threads)"
    plain_copy "$d"
    OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$PY" "$PEERS/pyg_gcn_inference.py" "$WORK/$d/plain" \
      "$dir/weights.pt" --threads "$threads" --halo-igcn "$dir/igcn.json" --halo-metrics "$dir/metrics.jsonl" \
      >> "$RESULTS"
  else
    HALO_ROWS+=("$(printf '| %s | GCN 2 layers, hidden 16, %s threads | %.3g ms | – | – | – (test acc Halo %s) |' "$d" \
      "$threads" "$(awk -v s="$(json_number "$dir/igcn.json" cpu_inference_s)" 'BEGIN { print s * 1e3 }')" \
      "$(tail -n 1 "$dir/metrics.jsonl" | grep -o '"test_acc":[0-9.e-]*' | cut -d: -f2)")")
  fi
done

echo
echo "## CPU inference, Halo vs PyG: 2-layer GCN (hidden 16) trained by Halo, the same weights; $(date -u +%F)"
echo
HEAD="| dataset | model | Halo inference (median of ≥ 21) | PyG inference, same weights (median of N) | Halo / PyG | predictions agree |"
if [[ -z $PY ]]; then
  printf '%s\n|---|---|---:|---:|---:|---|\n' "$HEAD"
  printf '%s\n' "${HALO_ROWS[@]}"
else
  "$PY" - "$RESULTS" "$HEAD" << 'EOF'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
ms = lambda s: f"{s * 1e3:.3g} ms"
print(sys.argv[2] + "\n|---|---|---:|---:|---:|---|")
for r in rows:
    h, acc = r["halo"], lambda side: "/".join(f"{side['acc'][s]:.3f}" for s in ("train", "val", "test"))
    print(f"| {r['graph']} | GCN {r['layers']} layers, hidden 16, {h['threads']} threads | {ms(h['median_s'])} "
          f"| {ms(r['median_s'])} ({r['input']}, N = {r['runs']}) | {h['median_s'] / r['median_s']:.2f} "
          f"| {'yes' if r['agree'] else 'NO'}: train/val/test acc Halo {acc(h)}, PyG {acc(r)} |")
print("\nHalo / PyG below 1 favours Halo. Halo: `halo igcn --json` cpu_inference_s, sparse input rows. PyG: "
      "GCNConv(cached=True) on the dense row-normalised features under torch.inference_mode(), the fastest of "
      "its inputs; each input's median: " + "; ".join(
          r["graph"] + " " + ", ".join(f"{k} {ms(v['median_s'])}" for k, v in r["inputs"].items()) +
          ("" if r["inputs_agree"] else " (their predictions differ)") for r in rows) + ".")
print(f"\nPyG's torch: {rows[0]['torch']}")
EOF
fi
echo "Halo: $BLAS_HALO"
