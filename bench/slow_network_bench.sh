#!/usr/bin/env bash
# PipeGCN on a slow network, on one machine. Each rank runs on its own "host": a Linux network
# namespace joined to the others through a bridge by a veth pair whose outgoing traffic is
# limited with tc (tbf: RATE; plus netem: DELAY where the kernel has netem). OpenMPI talks TCP
# between them; mpirun starts its daemons inside the namespaces through an rsh agent that runs
# `ip netns exec`. Everything is set up and torn down here (needs root). Prints two tables --
# the limited network, then the same runs over plain loopback TCP -- of synchronous,
# pipelined (with the progress thread, and moving messages only between layers) and
# pipelined + p = 0.1 training: epoch time, exposed (waited) and total communication time,
# bytes, and test accuracy after the last epoch.
# The default rate makes communication take about as long as computation on a 2-core machine with
# 4 ranks, where overlapping them matters most; RATE=1gbit is the faster link.
#   bench/slow_network_bench.sh [BUILD_DIR]
#   env: RANKS=4 RATE=300mbit DELAY=0.5ms DATASET=reddit-sim:nodes=50000 MODEL=sage LAYERS=3 EPOCHS=10
set -euo pipefail
build=$(realpath "${1:-build}")
halo=$build/launch/halo
ranks=${RANKS:-4} rate=${RATE:-300mbit} delay=${DELAY:-0.5ms}
dataset=${DATASET:-reddit-sim:nodes=50000} model=${MODEL:-sage} layers=${LAYERS:-3} epochs=${EPOCHS:-10}
[ "$(id -u)" -eq 0 ] || { echo "slow_network_bench: needs root (network namespaces, tc)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=$(mktemp -d /tmp/halo-slow-network.XXXXXX)
# shellcheck source=../scripts/netns_hosts.sh
source "$(dirname "$0")/../scripts/netns_hosts.sh"
trap 'netns_down "$ranks"; rm -rf "$work"' EXIT
netns_up "$ranks" "$work"
shaping="tbf rate $rate burst 256kb latency 100ms"
for ((k = 0; k < ranks; k++)); do
  ns=halo-ns$k
  if ip netns exec "$ns" tc qdisc add dev eth0 root handle 1: netem delay "$delay" 2>/dev/null; then
    ip netns exec "$ns" tc qdisc add dev eth0 parent 1: handle 2: $shaping
  else
    [ "$k" -gt 0 ] || echo "(this kernel has no netem: bandwidth $rate only, no added delay)"
    ip netns exec "$ns" tc qdisc add dev eth0 root $shaping
  fi
done

"$halo" --log-level warn partition "$dataset" --parts "$ranks" -o "$work/parts" >/dev/null
tcp="--mca btl tcp,self --bind-to none"
namespaces=$NETNS_MPI_FLAGS
loopback="--oversubscribe --host localhost:$ranks --mca btl_tcp_if_include lo"

# One row: the means over the timed epochs (the first, synchronous one is left out).
row() {
  local name=$1 launch=$2 flags=$3
  # shellcheck disable=SC2086
  mpirun $tcp $launch -np "$ranks" "$halo" --log-level warn train --parts "$work/parts" --model "$model" \
    --layers "$layers" --hidden 256 --epochs "$epochs" --eval-every 1000000 $flags \
    --metrics "$work/metrics.jsonl" >/dev/null
  python3 - "$name" "$work/metrics.jsonl" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[2])][1:]
mean = lambda key: sum(m[key] for m in lines) / len(lines)
print(f"| {sys.argv[1]} | {mean('epoch_seconds'):.3f} | {mean('exposed_comm_seconds'):.3f} | "
      f"{mean('total_comm_seconds'):.3f} | {mean('bytes_sent_mean') / 1e6:.1f} | {lines[-1]['test_acc']:.3f} |")
EOF
  rm -f "$work/metrics.jsonl"
}

table() {
  local title=$1 launch=$2
  echo
  echo "$title: $dataset, $model $layers layers hidden 256, $ranks ranks, $epochs epochs"
  echo "| run | epoch s | exposed comm s | total comm s | MB sent / rank / epoch | test acc |"
  echo "|---|---|---|---|---|---|"
  row synchronous "$launch" ""
  row pipelined "$launch" "--pipeline"
  row "pipelined, progress between layers only" "$launch" "--pipeline --no-progress-thread"
  row "pipelined, p = 0.1" "$launch" "--pipeline --boundary-rate 0.1"
}

table "Limited network ($rate per rank, netem delay $delay if available)" "$namespaces"
table "Loopback TCP, no limits" "$loopback"
