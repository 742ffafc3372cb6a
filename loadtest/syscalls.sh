#!/usr/bin/env bash
# Syscalls per event on the sidecar's Redis path: one sidecar (100% Redis
# Streams, one worker) against a redis-server of its own, driven by
# streamshift-load at a fixed rate, with `strace -c -f` attached for the
# measured period only. Prints strace's table and the calls per event.
#
#   loadtest/syscalls.sh BINARY [RATE] [REDIS_URL_SCHEME]
#
# BINARY: a streamshift binary (build/bin/streamshift, or the previous
# commit's for a comparison). RATE: requests/s (default 5000). SCHEME:
# redis (default) or rediss (TLS, certificates made here). strace slows
# the process it traces: the counts are what they are, the rate is kept
# low enough that every request is still answered.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "$1")
rate=${2:-5000}
scheme=${3:-redis}
for tool in strace redis-server openssl; do
  command -v "$tool" >/dev/null || { echo "syscalls.sh: $tool missing (apt-get install $tool)" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/streamshift-syscalls.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(port) tls_port=$(port) listen=$(port) admin=$(port) sink=$(port)

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 -subj /CN=ca 2>/dev/null
openssl req "${ec[@]}" -keyout "$dir/r.key" -out "$dir/r.csr" -subj /CN=localhost 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" >"$dir/san.cnf"
openssl x509 -req -in "$dir/r.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -out "$dir/r.crt" -days 2 -extfile "$dir/san.cnf" 2>/dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --tls-port "$tls_port" \
  --tls-cert-file "$dir/r.crt" --tls-key-file "$dir/r.key" --tls-ca-cert-file "$dir/ca.crt" \
  --tls-auth-clients no --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
pids+=($!)
url="redis://127.0.0.1:$redis_port/0"
[[ $scheme == rediss ]] && url="rediss://127.0.0.1:$tls_port/0"
env STREAMSHIFT_LISTEN=127.0.0.1:$listen STREAMSHIFT_ADMIN_LISTEN=127.0.0.1:$admin \
  STREAMSHIFT_UPSTREAM_URL=http://127.0.0.1:$sink STREAMSHIFT_WORKERS=1 REDIS_URL="$url" \
  REDIS_TLS_CA_FILE="$([[ $scheme == rediss ]] && echo "$dir/ca.crt")" \
  EVENT_TRANSPORT_USE_REDIS_STREAMS=true EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE=100 \
  EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS=5000 EVENT_COALESCING_ENABLED=false LOG_LEVEL=warn \
  "$binary" proxy >"$dir/sidecar.log" 2>&1 &
sidecar=$!
pids+=($sidecar)
# Ready, and every Redis connection up (readiness alone does not wait for
# Redis: events would fall back and open the circuit).
redis_ready() {
  curl -fs "http://127.0.0.1:$admin/metrics" 2>/dev/null |
    grep -qE '^streamshift_redis_connections_ready [1-9]'
}
for _ in $(seq 100); do
  redis_ready && break
  sleep 0.1
done
redis_ready || { cat "$dir/sidecar.log"; exit 1; }
# Warm-up without strace, then the measured run with it.
build/bin/streamshift-load --target "127.0.0.1:$listen" --rate "$rate" --duration-ms 1000 \
  --warmup-ms 0 >/dev/null
strace -c -f -p "$sidecar" -o "$dir/strace.txt" 2>"$dir/strace.err" &
tracer=$!
for _ in $(seq 100); do
  grep -q attached "$dir/strace.err" 2>/dev/null && break
  sleep 0.05
done
build/bin/streamshift-load --target "127.0.0.1:$listen" --rate "$rate" --duration-ms 5000 \
  --warmup-ms 0 >"$dir/load.json"
kill -INT "$tracer"
wait "$tracer" || true
read -r requests ok failed < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(r["completed_all"], r["ok"], r["errors"] + r["non_2xx"])' "$dir/load.json")
if ((failed > 0)); then
  echo "syscalls.sh: $failed of $requests requests failed (ok: $ok); the sidecar's log:" >&2
  grep -v "upstream request failed" "$dir/sidecar.log" | head -20 >&2 || true
  curl -s "http://127.0.0.1:$admin/metrics" | grep -E 'fallback|connections_ready|circuit_open' >&2 || true
  exit 1
fi
cat "$dir/strace.txt"
python3 - "$dir/strace.txt" "$requests" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
total = next(l for l in lines if l.strip().endswith("total"))
calls = int(total.split()[3])
requests = int(sys.argv[2])
print(f"requests {requests}, syscalls {calls}, per request {calls / requests:.2f}")
PY
