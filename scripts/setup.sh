#!/usr/bin/env bash
# Installs Halo's Debian dependencies and builds it (Release) into build/.
# Usage: scripts/setup.sh [extra cmake args...]
# HALO_TARGETS="halo ..." builds only those targets (the demo needs the halo program alone);
# HALO_SETUP=packages installs the packages and selects the BLAS without building.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-openmp libdnnl-dev
  libopenmpi-dev openmpi-bin
  libmetis-dev libtbb-dev libgtest-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev zlib1g-dev gnuplot-nox
  iproute2 procps time bc
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's LibTorch calls whatever libblas.so.3 the alternatives system selects; a fresh
# machine selects the reference BLAS, 20-30x slower than OpenBLAS. Select OpenBLAS.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  cand=$(update-alternatives --list "$lib-$arch" 2>/dev/null | grep openblas | head -n1 || true)
  if [ -n "$cand" ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo update-alternatives --set "$lib-$arch" "$cand" >/dev/null
  fi
done

[ "${HALO_SETUP:-}" != packages ] || exit 0
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build ${HALO_TARGETS:+--target $HALO_TARGETS}
