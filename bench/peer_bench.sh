#!/usr/bin/env bash
# Peer benchmark: Halo against PyTorch Geometric, DGL and a plain PyTorch CSR script on the same
# graphs (full-graph epoch time and peak memory, 2 threads), plus time to accuracy against PyG
# NeighborLoader. Prints one markdown table and the BLAS each side ran. Never part of CI.
#
#   bash bench/peer_bench.sh [--quick]
#
# Needs build/launch/halo (or HALO=...) and mpirun. The peers' Python packages go into a throwaway venv
# (PEERS_VENV, default /tmp/halo-peers-venv, reused; the first setup downloads ~3 GB and
# compiles torch_sparse); none of them is a dependency of Halo. Graphs are written by Halo into
# PEERS_DATA (default /tmp/halo-peers-data), only when missing; each run's records, logs and
# metrics go to PEERS_DATA/runs/. PEERS_EPOCHS, PEERS_TTA_EPOCHS override the epoch counts;
# PEERS_MEM_LIMIT caps each peer's heap (bytes; default 90% of the free memory; 0: none);
# PEERS_GRAPHS=community-200k (or reddit-sim) keeps one graph's epoch rows; PEERS_TTA=0 skips the
# time-to-accuracy rows.
# --quick: 5,000-node graphs and a few epochs, to check the plumbing in a few minutes; the full
# run takes on the order of hours on 2 cores.
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; }
QUICK=0 MODE=""
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 MODE=" (--quick)" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "peer_bench.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=$ROOT/bench/peers
HALO=${HALO:-$ROOT/build/launch/halo}
DATA=${PEERS_DATA:-/tmp/halo-peers-data}
THREADS=2

die() { echo "peer_bench.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

if [[ $QUICK == 1 ]]; then
  GRAPHS=("community-5k=community:nodes=5000,degree=50,features=128" "reddit-sim-5k=reddit-sim:nodes=5000")
  EPOCHS=${PEERS_EPOCHS:-5}
  TTA_EPOCHS=${PEERS_TTA_EPOCHS:-20}
  LOADER_OPTIONS=(--eval-every 2 --max-epochs 20)
else
  # community: 200,000 nodes x 50 in-edges = ~10 M directed edges, 128 features.
  GRAPHS=("community-200k=community:nodes=200000,degree=50,features=128" "reddit-sim=reddit-sim")
  EPOCHS=${PEERS_EPOCHS:-20}
  TTA_EPOCHS=${PEERS_TTA_EPOCHS:-100}
  LOADER_OPTIONS=(--eval-every 10 --max-epochs 10)
fi
TTA_GRAPH=${GRAPHS[1]%%=*}  # the Reddit-like graph
# PEERS_GRAPHS=name,...: only these graphs' epoch rows; PEERS_TTA=0: no time-to-accuracy rows.
if [[ -n ${PEERS_GRAPHS:-} ]]; then
  kept=()
  for g in "${GRAPHS[@]}"; do [[ ,$PEERS_GRAPHS, == *,${g%%=*},* ]] && kept+=("$g"); done
  ((${#kept[@]})) || die "PEERS_GRAPHS=$PEERS_GRAPHS names none of: ${GRAPHS[*]%%=*}"
  GRAPHS=("${kept[@]}")
  [[ ${PEERS_TTA:-1} == 0 || ,$PEERS_GRAPHS, == *,$TTA_GRAPH,* ]] ||
    die "time to accuracy trains on $TTA_GRAPH: add it to PEERS_GRAPHS, or set PEERS_TTA=0"
fi

[[ -x $HALO ]] || die "no Halo binary at $HALO: build Halo first (bash scripts/setup.sh) or set HALO=/path/to/halo"
command -v mpirun > /dev/null || die "mpirun not found: install OpenMPI (bash scripts/setup.sh does)"

# --- the peers' venv -------------------------------------------------------------------------
PY=$(bash "$PEERS/venv.sh")
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS PYTHONDONTWRITEBYTECODE=1
if [[ $(id -u) == 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

# --- the graphs, written by Halo --------------------------------------------------------------
# DATA/NAME: the plain folder (with its npy/ cache for Python); DATA/NAME.halo: the same graph
# converted back by Halo, so Halo trains on exactly what the peers read.
mkdir -p "$DATA"
make_graph() {
  local name=$1 spec=$2 dir=$DATA/$1
  if [[ ! -d $dir ]]; then
    log "generating $spec"
    rm -rf "$dir.tmp"
    "$HALO" generate "$spec" -o "$dir.tmp" --format plain >&2
    mv "$dir.tmp" "$dir"
  fi
  if [[ ! -f $dir.halo ]]; then
    "$HALO" convert "$dir" -o "$dir.halo.tmp" >&2
    mv "$dir.halo.tmp" "$dir.halo"
  fi
  # Parsing the text once here keeps its peak memory out of the peers' RSS.
  "$PY" "$PEERS/load_plain.py" "$dir" >&2
}
for g in "${GRAPHS[@]}"; do make_graph "${g%%=*}" "${g#*=}"; done

RUN=$DATA/runs/$(date +%Y%m%d-%H%M%S)${MODE:+-quick}
mkdir -p "$RUN"
RESULTS=$RUN/results.jsonl
touch "$RESULTS"
FAILED=()

# run LABEL COMMAND...: stdout's JSON lines go to RESULTS; a failure is reported and skipped.
# In the background, so that set -e still stops a failing step inside a function (an `if`
# around the command would switch it off).
run() {
  local label=$1 out=$RUN/$1.out status=0
  shift
  log "$label"
  "$@" > "$out" 2> "$RUN/$label.log" &
  wait $! || status=$?
  if ((status == 0)); then
    grep '^{' "$out" >> "$RESULTS" || true
  else
    echo "peer_bench.sh: $label failed (exit $status); its log: $RUN/$label.log" >&2
    tail -n 5 "$RUN/$label.log" >&2
    FAILED+=("$label")
  fi
}

LAUNCH=()  # what runs Halo: nothing, or mpirun
halo_train() {  # METRICS ARGS...: Halo with the peers' model settings
  local metrics=$1
  shift
  "${LAUNCH[@]}" "$HALO" train "$@" --layers 2 --hidden 256 --dropout 0.5 --lr 0.01 --weight-decay 5e-4 \
    --metrics "$metrics"
}

halo_epochs() {
  local name=$1 model=$2 metrics=$RUN/halo-$1-$2.jsonl
  # A huge --eval-every evaluates only after the last epoch, like the peers.
  halo_train "$metrics" "$DATA/$name.halo" --threads $THREADS --model "$model" --epochs "$EPOCHS" \
    --eval-every 1000000000 >&2
  "$PY" "$PEERS/halo_metrics.py" epoch "$metrics" --peer halo --model "$model" --graph "$name"
}

# --- full-graph epochs --------------------------------------------------------------------------
for g in "${GRAPHS[@]}"; do
  name=${g%%=*}
  for model in gcn sage; do
    common=("$DATA/$name" --model "$model" --epochs "$EPOCHS" --threads "$THREADS")
    run "halo-$name-$model" halo_epochs "$name" "$model"
    run "pyg-$name-$model" "$PY" "$PEERS/pyg_full.py" "${common[@]}" --input edge_index
    run "pyg-sparse-tensor-$name-$model" "$PY" "$PEERS/pyg_full.py" "${common[@]}" --input sparse_tensor
    run "torch-csr-$name-$model" "$PY" "$PEERS/torch_csr.py" "${common[@]}"
    run "dgl-$name-$model" "$PY" "$PEERS/dgl_full.py" "${common[@]}"
  done
done

# --- time to accuracy ---------------------------------------------------------------------------
# The target is 95% of the best validation accuracy of Halo's own full-graph run.
TTA1=$RUN/halo-tta-1rank.jsonl
TTA4=$RUN/halo-tta-4ranks.jsonl
PARTS=$DATA/$TTA_GRAPH.parts4
tta_halo_1rank() {
  halo_train "$TTA1" "$DATA/$TTA_GRAPH.halo" --threads $THREADS --model sage --epochs "$TTA_EPOCHS" --eval-every 1 >&2
  local target
  target=$("$PY" "$PEERS/halo_metrics.py" target "$TTA1" --fraction 0.95)
  "$PY" "$PEERS/halo_metrics.py" tta "$TTA1" --target "$target" --peer halo-1-rank --graph "$TTA_GRAPH"
}
tta_halo_4ranks() {
  if [[ ! -f $PARTS/meta.json ]]; then
    rm -rf "$PARTS"
    "$HALO" partition "$DATA/$TTA_GRAPH.halo" --parts 4 -o "$PARTS" >&2
  fi
  # 4 ranks on this machine's cores: one thread each, oversubscribed.
  local LAUNCH=(mpirun --oversubscribe --bind-to none -np 4)
  halo_train "$TTA4" --parts "$PARTS" --model sage --epochs "$TTA_EPOCHS" --eval-every 1 --boundary-rate 0.1 \
    --threads 1 >&2 < /dev/null
  "$PY" "$PEERS/halo_metrics.py" tta "$TTA4" --target "$1" --peer "halo-4-ranks-p=0.1" --graph "$TTA_GRAPH"
}

[[ ${PEERS_TTA:-1} == 0 ]] || run "halo-tta-1rank" tta_halo_1rank
if [[ ${PEERS_TTA:-1} == 0 ]]; then
  :
elif [[ -s $TTA1 ]] && TARGET=$("$PY" "$PEERS/halo_metrics.py" target "$TTA1" --fraction 0.95); then
  log "time-to-accuracy target: validation accuracy $TARGET"
  run "halo-tta-4ranks" tta_halo_4ranks "$TARGET"
  run "pyg-neighborloader-$TTA_GRAPH" "$PY" "$PEERS/pyg_neighbor_loader.py" "$DATA/$TTA_GRAPH" --threads $THREADS \
    --target "$TARGET" "${LOADER_OPTIONS[@]}"
else
  echo "peer_bench.sh: no Halo target accuracy, time-to-accuracy runs skipped" >&2
fi

# --- report -------------------------------------------------------------------------------------
echo
echo "## Peer benchmark$MODE: $THREADS threads, $EPOCHS epochs; time to accuracy: up to $TTA_EPOCHS Halo epochs; $(date -u +%F)"
echo
"$PY" "$PEERS/report.py" "$RESULTS"
echo
# Captured first: grep -m1 on a pipe would stop halo early, and pipefail would count that a failure.
startup=$("$HALO" --threads $THREADS info tiny 2>&1 || true)
echo "BLAS, Halo: $(grep -m1 -o 'BLAS: .*' <<<"$startup" || echo 'no start-up report')"
echo "BLAS, peers: $(MKL_VERBOSE=1 "$PY" "$PEERS/torch_blas.py" | grep -v 'MKL_VERBOSE [A-Z]*GEMM' | paste -sd ' ')"
echo
echo "Records, logs and metrics: $RUN"
if ((${#FAILED[@]})); then
  echo "peer_bench.sh: failed runs: ${FAILED[*]}" >&2
  exit 1
fi
