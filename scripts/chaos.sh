#!/usr/bin/env bash
# The chaos runner: the real sidecar, relays and redis-server on free
# loopback ports under load from streamshift-load, one fault per scenario
# (docs/hardening/chaos.md). Exits non-zero when a scenario loses an
# acknowledged event or breaks another promise of the README.
#
#   scripts/chaos.sh [--quick] [--only a,b] [--keep] [--json FILE] [--no-doc]
#
# --quick: every scenario briefly (the CI step, a few minutes); without it
# the loads are longer and the table is written into docs/hardening/chaos.md.
# Builds streamshift and streamshift-load into build/ (or $STREAMSHIFT_BUILD_DIR)
# first, configuring it like scripts/test.sh when it is not configured yet.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${STREAMSHIFT_BUILD_DIR:-build}
for tool in cmake redis-server python3 setpriv; do
  if ! command -v "$tool" >/dev/null; then
    echo "chaos: $tool is missing: run scripts/setup-deps.sh (Debian packages)" >&2
    exit 1
  fi
done
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DSTREAMSHIFT_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target streamshift streamshift-load

exec python3 loadtest/chaos/main.py --build "$build/bin" "$@"
