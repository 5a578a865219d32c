#!/usr/bin/env bash
# halo-run across hosts: two Linux network namespaces joined by veth pairs and a bridge stand for
# two machines; mpirun starts one rank in each through its rsh agent and the ranks talk TCP. The
# job must print its mpirun line and give the one-process result. Needs root (exit 77: skipped).
#   tests/halo_run_hosts.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "halo_run_hosts: needs root for network namespaces; skipped"; exit 77; }
ip netns add halo-probe 2>/dev/null && ip netns del halo-probe ||
  { echo "halo_run_hosts: this machine does not allow network namespaces; skipped"; exit 77; }
work=$(mktemp -d /tmp/halo-run-hosts.XXXXXX)
# shellcheck source=../scripts/netns_hosts.sh
source "$(dirname "$0")/../scripts/netns_hosts.sh"
trap 'netns_down 2; rm -rf "$work"' EXIT
netns_down 2  # what an interrupted run may have left
netns_up 2 "$work"

"$build/launch/halo" --log-level warn partition tiny --parts 2 -o "$work/parts" >/dev/null
one=$("$build/launch/halo" --log-level warn train tiny --epochs 8 --seed 3 --json)
# shellcheck disable=SC2086
two=$("$build/launch/halo-run" $NETNS_MPI_FLAGS --mca btl tcp,self --ranks-per-node 1 \
  --log-level warn train --parts "$work/parts" --epochs 8 --seed 3 --json 2>"$work/stderr") || {
  cat "$work/stderr"
  exit 1
}
cat "$work/stderr"
grep -q "^halo-run: .* --hostfile $work/hosts --map-by ppr:1:node .* -np 2 " "$work/stderr" ||
  { echo "halo_run_hosts: the mpirun line is missing from the output"; exit 1; }
loss() { grep -o '"final_loss":[-0-9.e]*' <<<"$1" | cut -d: -f2; }
ranks=$(grep -o '"ranks":[0-9]*' <<<"$two" | cut -d: -f2)
echo "one process: final loss $(loss "$one"); 2 ranks on 2 namespace hosts: final loss $(loss "$two"), ranks $ranks"
[ "$ranks" = 2 ] || { echo "halo_run_hosts: expected 2 ranks"; exit 1; }
awk -v a="$(loss "$one")" -v b="$(loss "$two")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * a) }' ||
  { echo "halo_run_hosts: the losses differ"; exit 1; }
echo "halo_run_hosts: passed"
