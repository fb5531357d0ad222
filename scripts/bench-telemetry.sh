#!/usr/bin/env bash
# End-to-end telemetry benchmark: sim/utmsim against utmd (--store memory),
# each run preceded by the same streams against utmsim's no-op
# TelemetryService in the same invocation, at the given fleet sizes.
# Loopback only. Builds nothing. utmsim gets an operator token (--token), a
# supervisor's (--watch-token, role monitor) for its --watchers, and utmd's
# pid (--server-pid: server CPU per report, server_memory).
#
# Usage: scripts/bench-telemetry.sh BUILD_DIR [DRONES...] [-- utmsim flags...]
#   e.g. scripts/bench-telemetry.sh build 1000 10000 -- --duration-s 60
#        scripts/bench-telemetry.sh build 10000 -- --watchers 4
#        scripts/bench-telemetry.sh build 10000 -- --phase aligned  # bursts
# Each run prints utmsim's JSON summary on stdout, its human lines on stderr.
set -euo pipefail

BUILD_DIR=${1:?usage: $0 BUILD_DIR [DRONES...] [-- utmsim flags...]}
shift
fleets=()
while [[ $# -gt 0 && "$1" != "--" ]]; do fleets+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
((${#fleets[@]} > 0)) || fleets=(1000 10000)
for bin in services/utmd/utmd services/utmctl/utmctl sim/utmsim; do
  [[ -x "$BUILD_DIR/$bin" ]] || {
    echo "missing $BUILD_DIR/$bin: ninja -C $BUILD_DIR utmd utmctl utmsim" >&2
    exit 1
  }
done

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

for drones in "${fleets[@]}"; do
  data="$WORK/data-$drones"  # a fresh utmd per run: no tracks left over
  "$BUILD_DIR/services/utmd/utmd" --listen 127.0.0.1:0 --data-dir "$data" \
    --store memory >"$WORK/utmd.log" 2>&1 </dev/null &
  PID=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/utmd.log")
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || { cat "$WORK/utmd.log"; exit 1; }
  token=$("$BUILD_DIR/services/utmctl/utmctl" token --role operator \
    --sub bench-operator --data-dir "$data" --ttl 86400)
  watch_token=$("$BUILD_DIR/services/utmctl/utmctl" token --role monitor \
    --sub bench-monitor --data-dir "$data" --ttl 86400)
  echo "== $drones drones" >&2
  code=0
  "$BUILD_DIR/sim/utmsim" --target "127.0.0.1:$port" --token "$token" \
    --watch-token "$watch_token" --drones "$drones" --server-pid "$PID" \
    "$@" || code=$?
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
  ((code == 0)) || echo "utmsim exited $code for $drones drones" >&2
done
