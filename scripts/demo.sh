#!/usr/bin/env bash
# The utmd demo: installs what is missing, builds (Release), and runs a short
# scenario showing what works so far. It grows with each capability.
#
# Today: the exact 4-D geometry core, through `utmctl geo` (offline; the
# utmd server and its services arrive with the strategic coordination issue).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DUTM_BUILD_TESTS=OFF -DUTM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target utmctl
UTMCTL="$BUILD_DIR/services/utmctl/utmctl"
EX=docs/examples

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

step "1. Validate volume files: the bad one is refused with the exact field and reason"
expect 0 "$UTMCTL" geo check "$EX/area-45km.json" "$EX/intent-tip-inside.json"
expect 2 "$UTMCTL" geo check "$EX/intent-bow-tie.json"

step "2. A tip 1.1 cm across the middle of a 45 km geodesic edge conflicts"
expect 1 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

step "3. The same tip 1.1 cm short of the edge does not (the chord lies 16 cm away)"
expect 0 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-outside.json"

step "4. Machine-readable output for scripts"
expect 1 "$UTMCTL" geo --json intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

printf '\ndemo: all steps behaved as expected\n'
