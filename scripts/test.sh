#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice:
# a normal build (build/) and an AddressSanitizer + UndefinedBehaviorSanitizer
# build (build-asan/); then the integration tests once more under
# ThreadSanitizer (build-tsan/) with four workers per sidecar, where the
# workers, the admin thread and the metrics really run in parallel.
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh

jobs=$(nproc)
run_suite() {
  local dir=$1 filter=$2
  shift 2
  cmake -S . -B "$dir" -DSTREAMSHIFT_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300 $filter)
}

echo "== normal build =="
run_suite build "" -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan "" -DCMAKE_BUILD_TYPE=Debug -DSTREAMSHIFT_SANITIZE=ON

echo "== ThreadSanitizer build: integration tests, four workers per sidecar =="
unset ASAN_OPTIONS UBSAN_OPTIONS
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
export STREAMSHIFT_TEST_WORKERS=4
run_suite build-tsan "-L integration" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTREAMSHIFT_TSAN=ON
