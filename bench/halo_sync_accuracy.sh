#!/usr/bin/env bash
# Accuracy of compressed and stale halo messages on real data: Kipf & Welling's GCN (2 layers,
# hidden 16, dropout 0.5, 200 epochs, row-normalised features, weight decay on the first layer)
# on RANKS METIS parts; the mean over SEEDS seeds of the test accuracy at the best validation
# epoch, for each run against synchronous fp32 (the targets: bf16 and int8 within 0.3 points,
# int8 + p = 0.1 + pipeline within 1.0 point). One table.
#   bench/halo_sync_accuracy.sh [BUILD_DIR]
#   env: HALO_DATA (default ../shared/datasets), DATASETS="cora coauthor-cs" RANKS=4 SEEDS=5
set -euo pipefail
build=$(realpath "${1:-build}")
halo=$build/launch/halo
here=$(cd "$(dirname "$0")" && pwd)
export HALO_DATA=${HALO_DATA:-$here/../../shared/datasets}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks=${RANKS:-4} seeds=${SEEDS:-5}
work=$(mktemp -d /tmp/halo-sync-accuracy.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Mean test accuracy (%) at the best validation epoch over the seeds.
mean_accuracy() {
  local parts=$1 flags=$2 sum=0
  for ((seed = 0; seed < seeds; seed++)); do
    # shellcheck disable=SC2086
    acc=$(mpirun --oversubscribe -np "$ranks" "$halo" --log-level warn train --parts "$parts" --model gcn \
      --hidden 16 --dropout 0.5 --epochs 200 --normalize-features --decay-first-layer-only --seed "$seed" \
      $flags --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["test_acc_at_best_val"])')
    sum=$(python3 -c "print($sum + $acc)")
  done
  python3 -c "print(f'{100 * $sum / $seeds:.2f}')"
}

echo "GCN on $ranks ranks, mean test accuracy (%) at the best validation epoch over $seeds seeds"
echo "| data | run | accuracy | vs sync fp32 (points) | target |"
echo "|---|---|---|---|---|"
for dataset in ${DATASETS:-cora coauthor-cs}; do
  "$halo" --log-level warn partition "$dataset" --parts "$ranks" -o "$work/$dataset" >/dev/null
  reference=$(mean_accuracy "$work/$dataset" "")
  echo "| $dataset | sync fp32 | $reference | | |"
  for run in "bf16|--halo-precision bf16|0.3" "int8|--halo-precision int8|0.3" \
             "int8 + p = 0.1 + pipeline|--halo-precision int8 --boundary-rate 0.1 --pipeline|1.0"; do
    IFS='|' read -r name flags bound <<< "$run"
    acc=$(mean_accuracy "$work/$dataset" "$flags")
    python3 -c "d = $acc - $reference; print(f'| $dataset | $name | $acc | {d:+.2f} | |d| <= $bound: {\"yes\" if abs(d) <= $bound else \"NO\"} |')"
  done
done
