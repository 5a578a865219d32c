#!/usr/bin/env bash
# Halo syncs on a slow network, on one machine. Each rank runs on its own "host": a Linux network
# namespace joined to the others through a bridge by a veth pair whose outgoing traffic is
# limited with tc (tbf: RATE; plus netem: DELAY where the kernel has netem). OpenMPI talks TCP
# between them; mpirun starts its daemons inside the namespaces through an rsh agent that runs
# `ip netns exec`. Everything is set up and torn down here (needs root). For each rate in RATES,
# then over plain loopback TCP, one table: synchronous, pipelined (PipeGCN) and overlapped
# training, each with fp32, bf16 and int8 messages, with the full halo and with p = 0.1 --
# epoch time and its speed-up over synchronous fp32, exposed (waited) and total communication
# time, the share of synchronous fp32's exposed time hidden, bytes and their ratio to
# synchronous fp32's, and test accuracy after the last epoch.
# The default rate makes communication take about as long as computation on a 2-core machine with
# 4 ranks, where overlapping them matters most.
#   bench/slow_network_bench.sh [BUILD_DIR]
#   env: RANKS=4 RATES="300mbit 1gbit" DELAY=0.5ms DATASET=reddit-sim:nodes=50000 MODEL=sage LAYERS=3
#        EPOCHS=6 SYNCS="sync pipeline overlap" PRECISIONS="fp32 bf16 int8" RATES_P="1 0.1" LOOPBACK=1
set -euo pipefail
build=$(realpath "${1:-build}")
halo=$build/launch/halo
ranks=${RANKS:-4} rates=${RATES:-300mbit 1gbit} delay=${DELAY:-0.5ms}
dataset=${DATASET:-reddit-sim:nodes=50000} model=${MODEL:-sage} layers=${LAYERS:-3} epochs=${EPOCHS:-6}
syncs=${SYNCS:-sync pipeline overlap} precisions=${PRECISIONS:-fp32 bf16 int8} boundary_rates=${RATES_P:-1 0.1}
[ "$(id -u)" -eq 0 ] || { echo "slow_network_bench: needs root (network namespaces, tc)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=$(mktemp -d /tmp/halo-slow-network.XXXXXX)
# shellcheck source=../scripts/netns_hosts.sh
source "$(dirname "$0")/../scripts/netns_hosts.sh"
trap 'netns_down "$ranks"; rm -rf "$work"' EXIT
netns_up "$ranks" "$work"
# Limits every rank's outgoing link to $1 (replacing any earlier limit).
shape() {
  local shaping="tbf rate $1 burst 256kb latency 100ms"
  for ((k = 0; k < ranks; k++)); do
    ns=halo-ns$k
    ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    if ip netns exec "$ns" tc qdisc add dev eth0 root handle 1: netem delay "$delay" 2>/dev/null; then
      ip netns exec "$ns" tc qdisc add dev eth0 parent 1: handle 2: $shaping
    else
      [ "$k" -gt 0 ] || echo "(this kernel has no netem: bandwidth $1 only, no added delay)"
      ip netns exec "$ns" tc qdisc add dev eth0 root $shaping
    fi
  done
}

"$halo" --log-level warn partition "$dataset" --parts "$ranks" -o "$work/parts" >/dev/null
tcp="--mca btl tcp,self --bind-to none"
namespaces=$NETNS_MPI_FLAGS
loopback="--oversubscribe --host localhost:$ranks --mca btl_tcp_if_include lo"

# One row: the means over the timed epochs (the first, synchronous one is left out); the first
# row of a table (synchronous fp32, full halo) is the reference of the ratios.
row() {
  local name=$1 launch=$2 flags=$3
  # shellcheck disable=SC2086
  mpirun $tcp $launch -np "$ranks" "$halo" --log-level warn train --parts "$work/parts" --model "$model" \
    --layers "$layers" --hidden 256 --epochs "$epochs" --eval-every 1000000 $flags \
    --metrics "$work/metrics.jsonl" >/dev/null
  python3 - "$name" "$work/metrics.jsonl" "$work/reference.json" <<'EOF'
import json, os, sys
name, metrics, reference = sys.argv[1:]
lines = [json.loads(l) for l in open(metrics)][1:]
mean = lambda key: sum(m[key] for m in lines) / len(lines)
this = {k: mean(k) for k in ("epoch_seconds", "exposed_comm_seconds", "total_comm_seconds", "bytes_sent_mean")}
if not os.path.exists(reference):
    json.dump(this, open(reference, "w"))
ref = json.load(open(reference))
hidden = 1 - this["exposed_comm_seconds"] / ref["exposed_comm_seconds"] if ref["exposed_comm_seconds"] > 0 else 0
print(f"| {name} | {this['epoch_seconds']:.3f} | {ref['epoch_seconds'] / this['epoch_seconds']:.2f}x | "
      f"{this['exposed_comm_seconds']:.3f} | {this['total_comm_seconds']:.3f} | {100 * hidden:.0f}% | "
      f"{this['bytes_sent_mean'] / 1e6:.1f} | {this['bytes_sent_mean'] / ref['bytes_sent_mean']:.3f}x | "
      f"{lines[-1]['test_acc']:.3f} |")
EOF
  rm -f "$work/metrics.jsonl"
}

table() {
  local title=$1 launch=$2
  rm -f "$work/reference.json"
  echo
  echo "$title: $dataset, $model $layers layers hidden 256, $ranks ranks, $epochs epochs"
  echo "| run | epoch s | speed-up | exposed comm s | total comm s | sync fp32 exposure hidden | MB sent / rank / epoch | bytes vs sync fp32 | test acc |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for p in $boundary_rates; do
    for sync in $syncs; do
      for precision in $precisions; do
        flags="--halo-precision $precision"
        [ "$p" = 1 ] || flags="$flags --boundary-rate $p"
        [ "$sync" = sync ] || flags="$flags --$sync"
        row "$sync $precision p = $p" "$launch" "$flags"
      done
    done
  done
}

for rate in $rates; do
  shape "$rate"
  table "Limited network ($rate per rank, netem delay $delay if available)" "$namespaces"
done
[ "${LOOPBACK:-1}" = 0 ] || table "Loopback TCP, no limits" "$loopback"
