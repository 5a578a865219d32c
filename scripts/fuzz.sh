#!/usr/bin/env bash
# Fuzzes every loader, the checkpoint manifest and the config parser with libFuzzer (clang),
# AddressSanitizer and UBSan: builds build-fuzz/, then runs each target for SECONDS (default
# 600), PARALLEL at a time (default 2), starting from tests/fuzz/corpus/<target>. A crash, leak,
# sanitizer report, hang or out-of-memory leaves its input in fuzz-findings/<target>/; fix it
# and copy the input into the corpus, where the normal test suite replays it.
#   scripts/fuzz.sh [TARGET ...]    (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_TARGET:-600} parallel=${PARALLEL:-2}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(plain_dataset binary_dataset partition_meta config checkpoint_state accel_config)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHALO_FUZZ=ON \
  -DHALO_BUILD_BENCH=OFF >/dev/null
ninja -C build-fuzz "${targets[@]/#/fuzz_}"
run() {
  local t=$1 work=build-fuzz/corpus/$1
  mkdir -p "$work" "fuzz-findings/$t"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "build-fuzz/tests/fuzz/fuzz_$t" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb=4096 -max_len=65536 -artifact_prefix="fuzz-findings/$t/" -print_final_stats=1 \
    >"fuzz-findings/$t.log" 2>&1 && echo "$t: no finding in $seconds s ($(grep -o 'stat::number_of_executed_units: [0-9]*' "fuzz-findings/$t.log" | cut -d' ' -f2) runs)" ||
    { echo "$t: FINDING, see fuzz-findings/$t.log"; return 1; }
}
export -f run
export seconds
printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -I{} bash -c 'run {}'
