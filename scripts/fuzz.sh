#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, build dir build-fuzz) and runs
# each for SECONDS (default 60). Exits non-zero if any target crashes, leaks,
# runs out of memory or times out; the reproducer is left in fuzz/artifacts/.
# See docs/hardening/fuzz.md.
#
#   scripts/fuzz.sh [--merge] [--keep-going] [--runs N] [SECONDS] [TARGET...]
#
# --runs N (the long runs of docs/hardening/fuzz.md): stop each target after N
# executions instead of after SECONDS (SECONDS then only caps the time).
# New inputs go to a working corpus (build-fuzz/fuzz-corpus/<target>), never
# into the committed seeds (fuzz/corpus/<target>); --merge adds to the
# committed seeds only the working inputs that bring new coverage.
# --keep-going (long runs): fuzz in a child process restarted after each
# crash (libFuzzer -fork=1), so one known finding does not end the run;
# every reproducer is kept, and the exit status is still non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

# target                max_len  dictionary (fuzz/dict/)
targets_table=(
  "http_request_reader  4096     http"
  "http_client_response 4096     http"
  "event_fields         4096     json"
  "routes               512      routes"
  "route_file           2048     routes"
  "relay_entry          4096     resp"
  "redis_url            256      redis_url"
  "redis_reply          4096     resp"
  "redis_cluster        4096     redis_cluster"
)

merge=0
keep_going=0
runs=-1
seconds=60
seconds_given=0
wanted=()
while (($#)); do
  case $1 in
    --merge) merge=1 ;;
    --keep-going) keep_going=1 ;;
    --runs)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs needs a number" >&2; exit 2; }
      runs=$2
      shift
      ;;
    -h | --help) usage ;;
    *[!0-9]*) wanted+=("$1") ;;
    *) seconds=$1 seconds_given=1 ;;
  esac
  shift
done

# With --runs and no SECONDS, the number of executions alone ends a target.
((runs >= 0 && !seconds_given)) && seconds=0

names=()
selected=()
for row in "${targets_table[@]}"; do
  read -r name _ _ <<<"$row"
  names+=("$name")
  if ((${#wanted[@]} == 0)) || [[ " ${wanted[*]} " == *" $name "* ]]; then selected+=("$row"); fi
done
for w in "${wanted[@]}"; do
  [[ " ${names[*]} " == *" $w "* ]] || { echo "fuzz.sh: unknown target $w (known: ${names[*]})" >&2; exit 2; }
done

bash scripts/setup-deps.sh
for tool in clang clang++; do
  command -v "$tool" >/dev/null ||
    { echo "fuzz.sh: $tool not found: install clang and libclang-rt-14-dev (scripts/setup-deps.sh)" >&2; exit 1; }
done

build=build-fuzz
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -DSTREAMSHIFT_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DSTREAMSHIFT_WERROR=ON "${launcher[@]}" >/dev/null
build_targets=()
for row in "${selected[@]}"; do
  read -r name _ _ <<<"$row"
  build_targets+=("fuzz_$name")
done
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p fuzz/artifacts "$build/fuzz-logs"

# "12345" from the last libFuzzer line carrying `key: 12345`.
last_stat() { grep -oE "$1: [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+$' || echo "-"; }
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

failed=0
results=()
for row in "${selected[@]}"; do
  read -r name max_len dict <<<"$row"
  work="$build/fuzz-corpus/$name"
  log="$build/fuzz-logs/$name.log"
  mkdir -p "$work"
  echo "== $name: ${seconds}s (0: no limit), $runs runs (-1: no limit), max_len $max_len"
  mode=(-print_final_stats=1)
  ((keep_going)) && mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  rc=0
  "$build/bin/fuzz_$name" -max_total_time="$seconds" -runs="$runs" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -dict="fuzz/dict/$dict.dict" -artifact_prefix="fuzz/artifacts/$name-" \
    "${mode[@]}" "$work" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
  cov=$(last_stat cov "$log")
  ft=$(last_stat ft "$log")
  if ((keep_going)); then
    # "#53302: cov: 3515 ft: 3372 corp: 288 exec/s 3987 oom/timeout/crash: 0/0/9 time: 18s ..."
    status=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$status")
    elapsed=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$status")
    rate=$((${execs:-0} / (${elapsed:-0} > 0 ? elapsed : 1)))
    counts=$(sed -nE 's|.*oom/timeout/crash: ([0-9/]+).*|\1|p' <<<"$status")
    if [[ -n $status && ${counts:-0/0/0} == 0/0/0 ]]; then
      result=ok
    else
      failed=1
      result="FAILED: oom/timeout/crash ${counts:-?} (reproducers: fuzz/artifacts/$name-*)"
    fi
  else
    execs=$(final_stat number_of_executed_units "$log")
    rate=$(final_stat average_exec_per_sec "$log")
    if ((rc == 0)); then
      result=ok
    else
      failed=1
      artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
      summary=$(grep -m1 -E '^SUMMARY: |==fuzz invariant broken==' "$log" || echo "exit status $rc")
      result="FAILED: ${summary#SUMMARY: } ${artifact:+(reproducer: $artifact)}"
      echo "-- last lines of $log:"
      grep -v '^    #[0-9]' "$log" | tail -25
    fi
  fi
  results+=("$(printf '%-21s %12s %9s %6s %7s  %s' "$name" "${execs:--}" "${rate:--}" "$cov" "$ft" "$result")")
  if ((merge)) && ((rc == 0)); then
    "$build/bin/fuzz_$name" -merge=1 -max_len="$max_len" "fuzz/corpus/$name" "$work" \
      >"$build/fuzz-logs/$name.merge.log" 2>&1
    echo "-- merged new coverage into fuzz/corpus/$name"
  fi
done

echo
printf '%-21s %12s %9s %6s %7s  %s\n' target executions exec/s cov ft result
printf '%s\n' "${results[@]}"
exit "$failed"
