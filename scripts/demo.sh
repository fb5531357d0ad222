#!/usr/bin/env bash
# The utmd demo: installs what is missing, builds (Release), and runs a short
# scenario showing what works so far. It grows with each capability.
#
# Today: utmd starts (embedded default, no Redis, dev-mode tokens), two
# operators file overlapping flight intents and get exact, explained
# verdicts, a retry is idempotent, a stale write is refused, a police read is
# audited; the geometry core is shown offline through `utmctl geo`.
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
  local shown="$*"
  shown=${shown//$UTMCTL/utmctl}
  [[ $1 == intent ]] && shown="utmctl $shown"
  for name in ALICE BOB POLICE; do
    [[ -n "${!name:-}" ]] && shown=${shown//${!name}/\$$name}
  done
  echo "\$ $shown"
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

# Dev-mode tokens, minted with the key utmd keeps in its data directory.
ALICE=$("$UTMCTL" token --role operator --sub alice --data-dir "$WORK/data")
BOB=$("$UTMCTL" token --role operator --sub bob --data-dir "$WORK/data")
POLICE=$("$UTMCTL" token --role police --sub officer-7 --data-dir "$WORK/data")
# The example triangle, flying from 10 to 40 minutes from now.
T0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
T1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
sed -e "s/2027-01-15T09:00:00Z/$T0/" -e "s/2027-01-15T09:30:00Z/$T1/" \
  "$EX/intent-tip-inside.json" >"$WORK/flight.json"
intent() { "$UTMCTL" intent --server "127.0.0.1:$PORT" "$@"; }

step "A. Alice files a flight intent (priority 0)"
expect 0 intent --token "$ALICE" file "$WORK/flight.json" --request-id alice-1
ID=$(intent --token "$ALICE" --json file "$WORK/flight.json" --request-id alice-1 |
  sed -n 's/.*"intent":{"id":"\([^"]*\)".*/\1/p')

step "B. Bob files the same airspace at equal priority: rejected, with where and when"
expect 1 intent --token "$BOB" file "$WORK/flight.json"

step "C. Bob's emergency flight at priority 5 outranks it: accepted, with an advisory"
expect 0 intent --token "$BOB" file "$WORK/flight.json" --priority 5

step "D. Alice's client retries after a timeout with the same request id: nothing is filed twice"
expect 0 intent --token "$ALICE" file "$WORK/flight.json" --request-id alice-1

step "E. A write based on a stale version is refused (ABORTED)"
expect 3 intent --token "$ALICE" modify "$ID" "$WORK/flight.json" --version 7

step "F. Bob sees Alice's intent without her identity; the police see it, and it is audited"
expect 0 intent --token "$BOB" get "$ID"
expect 0 intent --token "$POLICE" get "$ID"

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
