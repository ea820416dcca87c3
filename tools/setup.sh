#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the fuzzers and the interop tests need.
# Idempotent and non-interactive: packages already present are left alone, so running it again is cheap.
# Exits non-zero with a message naming the packages when something cannot be installed.
set -euo pipefail

PACKAGES=(
  # Bazel 4.2.3 from Debian, which runs offline, and the Java rules it loads.
  bazel-bootstrap bazel-rules-java
  # Core libraries of the design card.
  libevent-dev android-libboringssl-dev libprotobuf-dev protobuf-compiler
  # secp256k1 signature verification for remote keys (not in BoringSSL).
  libsecp256k1-dev
  # libsodium as the reference XSalsa20 for //libp2p/crypto:xsalsa20_libsodium_test (test only).
  libsodium-dev
  # JSON (header-only) for the optional gossipsub params reader and the node program; not for the core.
  nlohmann-json3-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # clang for fuzzing (libFuzzer) and the sanitizers, lld to link them.
  clang lld libclang-rt-14-dev
  # Node.js for the js-libp2p interop tests (the machine usually has it already).
  nodejs
  # zlib for the remote tracer's gzip stream (not in the core).
  zlib1g-dev
  # A real Prometheus server and promtool for the observability gate (test only).
  prometheus
  # gnuplot (without X) for the network simulator's report plots (tools/sim/report.sh).
  gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >/dev/null; then
    echo "setup: apt-get update failed; cannot install: ${missing[*]}" >&2
    exit 1
  fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "setup: apt-get install failed for: ${missing[*]}" >&2
    exit 1
  fi
fi

# Node.js must be recent enough for js-libp2p (20 or newer, with a polyfill for Promise.withResolvers).
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "setup: node $major is too old; the interop tests need Node.js 20 or newer" >&2
    exit 1
  fi
fi

# The npm packages of the interop tests and of js-libp2p's interop suite, each folder's pinned by its
# committed lockfile.
top=$(cd "$(dirname "$0")/.." && pwd)
for dir in tools/interop tools/interop_suite; do
  if [ -f "$top/$dir/package-lock.json" ]; then
    if [ ! -d "$top/$dir/node_modules" ] || \
       [ "$top/$dir/package-lock.json" -nt "$top/$dir/node_modules/.package-lock.json" ]; then
      (cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "setup: npm ci failed in $dir" >&2
        exit 1
      }
    fi
  fi
done
echo "setup: all packages present" >&2
