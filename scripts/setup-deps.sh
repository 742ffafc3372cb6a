#!/usr/bin/env bash
# Installs the Debian packages streamshift builds, tests and runs with.
# Idempotent: packages already present are skipped; `apt-get update` runs at
# most once, and only when something is missing.
set -euo pipefail

#   setup-deps.sh         everything: build, tests, the bench's smoke run
#   setup-deps.sh build   what building the binary needs (the Dockerfile)
packages=(
  build-essential cmake pkg-config
  libuv1-dev libhiredis-dev libssl-dev node-llhttp
  libsimdjson-dev libyaml-cpp-dev prometheus-cpp-dev libbenchmark-dev
)
if [[ "${1:-all}" != build ]]; then
  packages+=(
  googletest libgtest-dev
  redis-server redis-tools prometheus
  # the TLS tests' certificates (made by the fixture)
  openssl
  curl python3
  # the bench's peers and plots (its smoke run is part of the suite)
  haproxy nginx-light webdis gnuplot-nox
  # scripts/fuzz.sh: clang's -fsanitize=fuzzer links libclang_rt.fuzzer,
  # which is in libclang-rt-14-dev (only recommended by clang)
  clang libclang-rt-14-dev
  )
  # kubectl renders the manifests in deploy/k8s for their tests. Any kubectl
  # will do; Debian's is kubernetes-client (1.20, kustomize v2).
  if ! command -v kubectl >/dev/null; then
    packages+=(kubernetes-client)
  fi
fi
if [[ "${STREAMSHIFT_BENCH_DEPS:-0}" == 1 ]]; then
  packages+=(wrk linux-perf valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup-deps: all packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
