#!/usr/bin/env bash
# Installs what is missing, builds, and runs the sidecar on a local default
# setup: a local redis-server on 127.0.0.1:6379 and a demo upstream (a
# stand-in for the SignalR internal API) on 127.0.0.1:5000 are started when
# nothing listens there and no STREAMSHIFT_UPSTREAM_URL is set. With
# EVENT_TRANSPORT_USE_REDIS_STREAMS=true the relay runs too, delivering the
# streams to the same upstream. Ctrl-C stops whatever this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target streamshift

mkdir -p .run
started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.05; done
  echo "run-local: nothing listens on port $1" >&2
  return 1
}

if ! port_open 6379; then
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --dir "$PWD/.run" \
    >"$PWD/.run/redis.log" 2>&1 &
  started+=($!)
  wait_port 6379
  echo "run-local: started redis-server on 127.0.0.1:6379 (log: .run/redis.log)"
fi

if [[ -z "${STREAMSHIFT_UPSTREAM_URL:-}" ]]; then
  if ! port_open 5000; then
    python3 scripts/demo_upstream.py 5000 &
    started+=($!)
    wait_port 5000
    echo "run-local: started the demo upstream on 127.0.0.1:5000"
  fi
  export STREAMSHIFT_UPSTREAM_URL=http://127.0.0.1:5000
fi

listen=${STREAMSHIFT_LISTEN:-127.0.0.1:15001}
admin=${STREAMSHIFT_ADMIN_LISTEN:-127.0.0.1:15000}
cat <<TXT

Try it (in another terminal):

  curl -i -X POST http://$listen/internal/broadcast/chat -H 'Content-Type: application/json' -d '{"event_type":"chat_message","room_id":"room-1","user_id":"u-1","text":"hello"}'

Metrics: curl -s http://$admin/metrics | grep events_published_total
TXT
if [[ "${EVENT_TRANSPORT_USE_REDIS_STREAMS:-false}" == true ]]; then
  # The other half: the relay consumes the streams and delivers to the
  # same upstream, so the whole path runs locally.
  STREAMSHIFT_RELAY_TARGET_URL=${STREAMSHIFT_RELAY_TARGET_URL:-$STREAMSHIFT_UPSTREAM_URL} \
    STREAMSHIFT_ADMIN_LISTEN=${STREAMSHIFT_RELAY_ADMIN_LISTEN:-127.0.0.1:15002} \
    build/bin/streamshift relay >"$PWD/.run/relay.log" 2>&1 &
  started+=($!)
  echo "Stream:  redis-cli XREVRANGE events:chat + - COUNT 5"
  echo "Relay:   delivering to ${STREAMSHIFT_RELAY_TARGET_URL:-$STREAMSHIFT_UPSTREAM_URL} (log: .run/relay.log, metrics: 127.0.0.1:15002/metrics)"
else
  echo "Redis path: EVENT_TRANSPORT_USE_REDIS_STREAMS=true EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=100 $0"
fi
echo
build/bin/streamshift proxy &
sidecar=$!
started+=("$sidecar")
trap 'kill -TERM $sidecar 2>/dev/null || true' INT TERM
wait "$sidecar" || true
