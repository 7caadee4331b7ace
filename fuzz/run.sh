#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (in ./build-fuzz) and runs each for SECONDS
# (default 60) from the seed corpus in fuzz/corpus/<target>. Fails on any
# crash, leak or sanitizer report; the reproducer is left in build-fuzz/.
# Usage: fuzz/run.sh [SECONDS]
set -euo pipefail
SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
CLANG=$(command -v clang++-14 || command -v clang++)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CLANG" \
  -DCAIRN_FUZZ=ON -DCAIRN_BUILD_TESTS=OFF -DCAIRN_WERROR=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_csr_policy fuzz_ocsp fuzz_json_command fuzz_http1_request
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for target in fuzz_csr_policy fuzz_ocsp fuzz_json_command fuzz_http1_request; do
  work="build-fuzz/corpus-$target"
  mkdir -p "$work"
  cp -n fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
  echo "== $target for ${SECONDS_EACH}s"
  log="build-fuzz/$target.log"
  if ! (cd build-fuzz && "./fuzz/$target" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=20 \
          -print_final_stats=1 "corpus-$target" >"$target.log" 2>&1); then
    tail -n 60 "$log"
    echo "FAIL: $target found a problem (reproducer: build-fuzz/crash-* or leak-*)"
    exit 1
  fi
  grep -E "^Done|stat::average_exec_per_sec|stat::new_units_added" "$log"
done
echo "fuzz: all targets ran ${SECONDS_EACH}s without a crash, leak or sanitizer report"
