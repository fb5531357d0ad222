#!/usr/bin/env bash
# Constraint fan-out: publish -> delivered on many WatchConstraints streams
# (sim/utmwatch), against utmd with --store memory and with the default
# embedded store (fsync), at 1,000 and 10,000 watchers. Each utmwatch run
# also measures, in the same run, a no-op fan-out server and the publisher
# without watchers. Builds nothing: pass a build directory that already has
# utmd, utmctl and utmwatch. Loopback only.
#
# Usage: scripts/bench-watch.sh BUILD_DIR [utmwatch flags...]
#   e.g. scripts/bench-watch.sh build-bench --publishes 100
# Environment: WATCHERS (default "1000 10000"), STORES (default
# "memory embedded").
set -euo pipefail
BUILD_DIR=${1:?usage: $0 BUILD_DIR [utmwatch flags...]}
shift
for bin in services/utmd/utmd services/utmctl/utmctl sim/utmwatch; do
  [[ -x "$BUILD_DIR/$bin" ]] || {
    echo "missing $BUILD_DIR/$bin: ninja -C $BUILD_DIR utmd utmctl utmwatch" >&2
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

run() {  # run STORE WATCHERS [flags...]
  local store=$1 watchers=$2
  shift 2
  local data="$WORK/data-$store-$watchers"
  local flags=()
  [[ "$store" == memory ]] && flags=(--store memory)
  "$BUILD_DIR/services/utmd/utmd" --listen 127.0.0.1:0 --data-dir "$data" \
    "${flags[@]}" >"$WORK/utmd.log" 2>&1 </dev/null &
  PID=$!
  local port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/utmd.log")
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || { cat "$WORK/utmd.log"; exit 1; }
  local regulator operator
  regulator=$("$BUILD_DIR/services/utmctl/utmctl" token --role regulator \
    --sub bench-authority --data-dir "$data" --ttl 86400)
  operator=$("$BUILD_DIR/services/utmctl/utmctl" token --role operator \
    --sub bench-operator --data-dir "$data" --ttl 86400)
  echo "== utmd store=$store, $watchers watchers" >&2
  local code=0
  "$BUILD_DIR/sim/utmwatch" --target "127.0.0.1:$port" --token "$regulator" \
    --watch-token "$operator" --watchers "$watchers" --server-pid "$PID" \
    "$@" || code=$?
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
  return "$code"
}

status=0
for store in ${STORES:-memory embedded}; do
  for watchers in ${WATCHERS:-1000 10000}; do
    run "$store" "$watchers" "$@" || status=1
  done
done
exit "$status"
