#!/usr/bin/env bash
# Filing throughput and latency of utmd over gRPC, next to a no-op gRPC
# server measured in the same run (sim/utmload). Loopback only.
#
# Usage: scripts/bench-intents.sh [utmload flags...]
#   e.g. scripts/bench-intents.sh --preload 100000 --filings 20000 --clients 16
# Environment: BUILD_DIR (default build-release), UTMD_FLAGS (extra utmd flags,
# e.g. "--no-sync" or "--store memory").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh >/dev/null
BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DUTM_BUILD_TESTS=OFF -DUTM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target utmd utmctl utmload >/dev/null

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck disable=SC2086  # UTMD_FLAGS is a list of flags
"$BUILD_DIR/services/utmd/utmd" --listen 127.0.0.1:0 --data-dir "$WORK/data" \
  ${UTMD_FLAGS:-} >"$WORK/utmd.log" 2>&1 </dev/null &
PID=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/utmd.log")
  [[ -n "$PORT" ]] && break
  sleep 0.05
done
[[ -n "$PORT" ]] || { cat "$WORK/utmd.log"; exit 1; }
TOKEN=$("$BUILD_DIR/services/utmctl/utmctl" token --role operator --sub load \
  --data-dir "$WORK/data" --ttl 86400)
"$BUILD_DIR/sim/utmload" --target "127.0.0.1:$PORT" --token "$TOKEN" "$@"
kill -TERM "$PID"
wait "$PID"
PID=""
