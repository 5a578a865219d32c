#!/usr/bin/env bash
# Installs a Halo build to a temporary prefix, builds examples/custom_layer out of tree against the
# installed package (find_package(Halo)), trains its GIN on Cora and checks the test accuracy; then
# the same for the library example in README.md (its first ```cpp block), exactly as printed there.
#
# Usage: tests/install_and_build.sh SOURCE_DIR BUILD_DIR DATA_DIR [MIN_ACCURACY]
#   DATA_DIR holds cora/; $HALO_DATA, when set, overrides it (as for the other tests).
#   MIN_ACCURACY defaults to 0.70.
set -euo pipefail

fail() {
  echo "install_and_build: FAILED: $*" >&2
  exit 1
}

[[ $# -ge 3 ]] || fail "usage: $0 SOURCE_DIR BUILD_DIR DATA_DIR [MIN_ACCURACY]"
source_dir=$(cd "$1" && pwd) || fail "no source dir $1"
build_dir=$(cd "$2" && pwd) || fail "no build dir $2"
data_dir=${HALO_DATA:-$3}
min_accuracy=${4:-0.70}
example_dir="$source_dir/examples/custom_layer"

[[ -f "$build_dir/CMakeCache.txt" ]] || fail "$build_dir is not a configured CMake build dir"
[[ -f "$example_dir/CMakeLists.txt" ]] || fail "no example project at $example_dir"
[[ -f "$data_dir/cora/edges.txt" ]] || fail "no Cora at $data_dir/cora (set HALO_DATA or pass DATA_DIR)"

work=$(mktemp -d "${TMPDIR:-/tmp}/halo-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

step() { echo "== install_and_build: $*"; }

# The example must use the compiler the library was built with (same standard library ABI).
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")

step "cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "cmake --install $build_dir"; }
config=$(find "$prefix" -name HaloConfig.cmake -print -quit)
[[ -n "$config" ]] || fail "the install has no HaloConfig.cmake"
[[ -f "$prefix/include/halo/gcn/graph_layer.h" ]] || fail "the install has no include/halo/gcn/graph_layer.h"
# The installed package must not point back into the source or build tree.
if grep -rlF -e "$source_dir" -e "$build_dir" "$(dirname "$config")" >&2; then
  fail "the installed CMake files above name the source or build tree"
fi

step "configure examples/custom_layer against $prefix"
cmake -S "$example_dir" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configuring examples/custom_layer with find_package(Halo)"; }

step "build examples/custom_layer"
cmake --build "$work/build" -j "${HALO_TEST_JOBS:-2}" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building examples/custom_layer against the installed Halo"; }

step "train GIN on $data_dir/cora"
"$work/build/gin_cora" "$data_dir/cora" 2>&1 | tee "$work/run.log" ||
  fail "gin_cora exited with status ${PIPESTATUS[0]}"

# check_accuracy PROGRAM LOG: the last "test accuracy <value>" line of LOG is above min_accuracy.
check_accuracy() {
  local accuracy
  accuracy=$(sed -n 's/.*test accuracy \([0-9.]*\).*/\1/p' "$2" | tail -n 1)
  [[ -n "$accuracy" ]] || fail "$1 printed no 'test accuracy <value>' line"
  awk -v a="$accuracy" -v m="$min_accuracy" 'BEGIN { exit !(a > m) }' ||
    fail "$1: test accuracy on Cora is $accuracy, expected above $min_accuracy"
  step "passed: $1, test accuracy $accuracy > $min_accuracy"
}
check_accuracy gin_cora "$work/run.log"

step "build and run README.md's library example"
readme="$work/readme"
mkdir -p "$readme"
awk '/^```cpp$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$source_dir/README.md" >"$readme/main.cpp"
grep -q "int main" "$readme/main.cpp" || fail "README.md has no \`\`\`cpp block with a main()"
cat >"$readme/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(readme_example LANGUAGES CXX)
find_package(Halo 0.1 REQUIRED)
add_executable(readme_example main.cpp)
target_link_libraries(readme_example PRIVATE Halo::halo)
CMAKE
cmake -S "$readme" -B "$readme/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} >"$work/readme-configure.log" 2>&1 ||
  { cat "$work/readme-configure.log" >&2; fail "configuring README.md's example"; }
cmake --build "$readme/build" >"$work/readme-build.log" 2>&1 ||
  { cat "$work/readme-build.log" >&2; fail "building README.md's example against the installed Halo"; }
HALO_DATA=$data_dir "$readme/build/readme_example" 2>&1 | tee "$work/readme-run.log" ||
  fail "README.md's example exited with status ${PIPESTATUS[0]}"
check_accuracy "README.md's example" "$work/readme-run.log"
