# Hosts made of Linux network namespaces on one machine, for multi-host OpenMPI runs over TCP (the
# slow-network benchmark, the halo-run test). Needs root. Source it, then:
#   netns_up COUNT WORK   namespaces halo-ns0 .. halo-ns<COUNT-1>, each with a veth (eth0) on one
#                         bridge; writes WORK/hosts (a hostfile, one slot per host) and
#                         WORK/agent.sh (an rsh agent for mpirun), and sets NETNS_MPI_FLAGS to
#                         the mpirun flags that use them
#   netns_down COUNT      removes them again (safe to call twice)
netns_net=10.77.0

netns_down() {
  local k
  for ((k = 0; k < $1; k++)); do ip netns del "halo-ns$k" 2>/dev/null || true; done
  ip link del halo-br0 2>/dev/null || true
  sed -i '/# halo-netns$/d' /etc/hosts
}

netns_up() {
  local count=$1 work=$2 k ns
  # The bridge sits in the root namespace, where mpirun runs.
  ip link add halo-br0 type bridge
  ip addr add "$netns_net.254/24" dev halo-br0
  ip link set halo-br0 up
  : >"$work/hosts"
  for ((k = 0; k < count; k++)); do
    ns=halo-ns$k
    ip netns add "$ns"
    ip link add "halo-veth$k" type veth peer name eth0 netns "$ns"
    ip link set "halo-veth$k" master halo-br0 up
    ip -n "$ns" addr add "$netns_net.$((k + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    echo "$netns_net.$((k + 1)) $ns # halo-netns" >>/etc/hosts
    echo "$ns slots=1" >>"$work/hosts"
  done
  cat >"$work/agent.sh" <<'AGENT'
#!/bin/sh
# rsh agent: "ssh HOST COMMAND" becomes COMMAND inside the namespace HOST.
host=$1
shift
exec ip netns exec "$host" sh -c "$*"
AGENT
  chmod +x "$work/agent.sh"
  # rtc_hwloc_vmhole none: the daemons otherwise map a shared hwloc topology into a hole of their
  # address space, which now and then crashes one of them (segfault in hwloc_shmem_topology_write).
  NETNS_MPI_FLAGS="--hostfile $work/hosts --mca plm_rsh_agent $work/agent.sh --mca oob_tcp_if_include $netns_net.0/24
    --mca btl_tcp_if_include $netns_net.0/24 --mca rtc_hwloc_vmhole none"
}
