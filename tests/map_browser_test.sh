#!/usr/bin/env bash
# End-to-end in a real browser: utmd serves the live map (--http); headless
# Chromium (driven by playwright-core from web/node_modules) signs in and
# sees a TFR published over gRPC appear within 1 s, two drones flying
# head-on move with their tracks, their conflict highlighted as a pair and
# then cleared; a Remote ID display token sees them as Remote ID flights on
# a layer it can toggle (a monitor's token has none); an operator's page
# never carries another operator's identity (in the page or in its raw event
# stream). Screenshots are kept under
# ARTIFACTS (the path is printed).
# Skips (exit 77) when chromium or web/node_modules is missing.
# Usage: map_browser_test.sh UTMD UTMCTL ARTIFACTS
set -u
UTMD=$1
UTMCTL=$2
ARTIFACTS=$3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  echo "SKIP: no chromium at $CHROMIUM (apt-get install chromium)"; exit 77
fi
if [[ ! -d "$ROOT/web/node_modules/playwright-core" ]] || ! command -v node >/dev/null; then
  echo "SKIP: web/node_modules or node missing (npm ci in web/)"; exit 77
fi
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data" --store memory --http 127.0.0.1:0
map_url=$(sed -n 's/^utmd: map on \(http:[^ ]*\).*/\1/p' "$work/utmd.out")
[[ -n "$map_url" ]] || fail "utmd did not print the map's URL: $(cat "$work/utmd.out")"
grep -q 'built without the page' "$work/utmd.out" &&
  fail "utmd was built without the map page: $(cat "$work/utmd.out")"
mkdir -p "$ARTIFACTS"

MAP_URL="$map_url" GRPC="127.0.0.1:$utmd_port" UTMCTL="$UTMCTL" \
  DATA_DIR="$utmd_data" WORK="$work" ARTIFACTS="$ARTIFACTS" CHROMIUM="$CHROMIUM" \
  WEB_DIR="$ROOT/web" \
  node "$ROOT/tests/map_browser_test.mjs" || fail "the browser test failed (utmd: $(tail -5 "$work/utmd.out"))"
utmd_stop
echo "PASS"
