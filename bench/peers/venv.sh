#!/usr/bin/env bash
# The peers' throwaway venv (PEERS_VENV, default /tmp/halo-peers-venv): PyPI torch (with MKL),
# PyTorch Geometric and DGL for the benchmarks in bench/, never a dependency of Halo. Made once,
# reused while its package list is the same; prints its python's path.
#   PY=$(bash bench/peers/venv.sh)
set -euo pipefail
VENV=${PEERS_VENV:-/tmp/halo-peers-venv}
die() { echo "venv.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

# DGL 2.1.0 (the newest on PyPI) ships kernels for torch <= 2.2.1; numpy 1.x for that torch.
# torchdata < 0.8 still has the datapipes DGL's graphbolt imports; pyyaml and pydantic are
# imported by DGL but not declared.
PACKAGES=(torch==2.2.1 numpy==1.26.4 torch_geometric==2.6.1 dgl==2.1.0 torchdata==0.7.1
  pandas==3.0.6 pyyaml==6.0.4 pydantic==2.14.4 setuptools wheel)
# Source-only on PyPI (their wheels live elsewhere). PyG needs torch_sparse (or pyg-lib, not on
# PyPI) for NeighborLoader's sampling and its SparseTensor input; torch_sparse imports torch_scatter.
SOURCE_PACKAGES=(torch-scatter==2.1.2 torch-sparse==0.6.18)

apt_install() {
  if [[ $(id -u) != 0 ]] || ! command -v apt-get > /dev/null; then
    die "$1 missing; install the Debian packages: ${*:2}"
  fi
  log "installing ${*:2} (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" > /dev/null
}

setup_venv() {
  local want="${PACKAGES[*]} ${SOURCE_PACKAGES[*]}"
  if [[ -f $VENV/.halo-peers && $(< "$VENV/.halo-peers") == "$want" ]]; then return; fi
  local python=${PEERS_PYTHON:-python3}
  command -v "$python" > /dev/null || apt_install "$python" python3
  "$python" -c 'import ensurepip' 2> /dev/null || apt_install "Python's venv module" python3-venv
  # torch_scatter and torch_sparse compile against Python's headers and torch's.
  [[ -f $("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h ]] ||
    apt_install "Python's headers" python3-dev
  command -v g++ > /dev/null || apt_install "g++" g++
  log "setting up the peers' venv in $VENV (torch pulls ~2.5 GB of CUDA wheels: PyPI has no CPU-only build)"
  [[ -x $VENV/bin/python ]] || "$python" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "${PACKAGES[@]}"
  # Their setup.py builds one extension after another; two pips in parallel use both cores.
  log "compiling ${SOURCE_PACKAGES[*]} from source (several minutes)"
  local pids=() pkg
  for pkg in "${SOURCE_PACKAGES[@]}"; do
    MAX_JOBS=$(nproc) "$VENV/bin/pip" install -q --no-deps --no-build-isolation "$pkg" > "$VENV/build-$pkg.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "compiling a source package failed: see $VENV/build-*.log"; done
  "$VENV/bin/python" -c 'import torch, torch_geometric, dgl, torch_sparse' ||
    die "the venv $VENV does not import torch, torch_geometric, dgl and torch_sparse (see above)"
  echo "$want" > "$VENV/.halo-peers"
}
setup_venv >&2  # stdout carries only the path
echo "$VENV/bin/python"
