#!/usr/bin/env bash
# The utmd demo: installs what is missing, builds (Release), and runs a short
# scenario showing what works so far. It grows with each capability.
#
# Today: the utmd server starts (embedded default, no Redis), answers health
# checks and drains on SIGTERM; the exact 4-D geometry core is shown through
# `utmctl geo`. The flight-intent service arrives with the strategic
# coordination issue, and the scenario grows with it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DUTM_BUILD_TESTS=OFF -DUTM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target utmctl utmd
UTMCTL="$BUILD_DIR/services/utmctl/utmctl"
UTMD="$BUILD_DIR/services/utmd/utmd"
EX=docs/examples

# utmd on a free loopback port, its data in a scratch directory; stopped on
# exit whatever happens.
WORK=$(mktemp -d)
UTMD_PID=""
cleanup() {
  if [[ -n "$UTMD_PID" ]]; then kill -KILL "$UTMD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs a command that is expected to exit with a given code.
expect() {
  local want=$1; shift
  echo "\$ utmctl ${*:2}" | sed "s|$UTMCTL|utmctl|"
  set +e; "$@"; local got=$?; set -e
  if [[ $got != "$want" ]]; then
    echo "demo: expected exit code $want, got $got" >&2
    exit 1
  fi
  echo "(exit $got)"
}

step "0. Start utmd (embedded store, loopback, a free port)"
"$UTMD" --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/utmd.log" 2>&1 </dev/null &
UTMD_PID=$!
PORT=""
for _ in $(seq 1 200); do  # up to 10 s
  PORT=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/utmd.log")
  [[ -n "$PORT" ]] && break
  sleep 0.05
done
[[ -n "$PORT" ]] || { echo "demo: utmd did not start:"; cat "$WORK/utmd.log"; exit 1; }
cat "$WORK/utmd.log"
expect 0 "$UTMCTL" health --server "127.0.0.1:$PORT"

step "1. Validate volume files: the bad one is refused with the exact field and reason"
expect 0 "$UTMCTL" geo check "$EX/area-45km.json" "$EX/intent-tip-inside.json"
expect 2 "$UTMCTL" geo check "$EX/intent-bow-tie.json"

step "2. A tip 1.1 cm across the middle of a 45 km geodesic edge conflicts"
expect 1 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

step "3. The same tip 1.1 cm short of the edge does not (the chord lies 16 cm away)"
expect 0 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-outside.json"

step "4. Machine-readable output for scripts"
expect 1 "$UTMCTL" geo --json intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

step "5. Stop utmd: SIGTERM drains and exits 0"
kill -TERM "$UTMD_PID"
wait "$UTMD_PID"
UTMD_PID=""
cat "$WORK/utmd.log"

printf '\ndemo: all steps behaved as expected\n'
