#!/usr/bin/env bash
# Smoke test of the traffic simulator against its no-op TelemetryService
# (a child process): a few drones for a few seconds must be streamed,
# acknowledged and summarised; a replay of the shared Remote ID test flights
# too (skipped when ../shared/data is absent); non-loopback targets and bad
# options are refused with 64. Usage: utmsim_smoke_test.sh UTMSIM [DATA_DIR]
set -u
UTMSIM=$1 DATA=${2:-}
fail() { echo "FAIL: $*"; exit 1; }
field() {  # field JSON PATH: prints the value at a dotted path
  /usr/bin/python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v=v[k]
print(json.dumps(v))' "$1" "$2"
}

out=$("$UTMSIM" --noop-only --drones 12 --streams 3 --duration-s 3 --rate 2 2>/dev/null); code=$?
[[ $code == 0 ]] || fail "exit $code: $out"
[[ $(field "$out" ok) == true ]] || fail "not ok: $out"
[[ $(field "$out" noop.reports_sent) == 72 ]] || fail "12 drones x 6 ticks: $out"
[[ $(field "$out" noop.streams_failed) == 0 ]] || fail "streams failed: $out"
[[ $(field "$out" noop.acked_reports) == 72 ]] || fail "not all acked: $out"
[[ $(field "$out" noop.report_errors) == 0 ]] || fail "report errors: $out"
[[ $(field "$out" scenario.head_on_pairs) == 1 ]] || fail "scenario: $out"

# As fast as possible: same reports, simulated time.
out=$("$UTMSIM" --noop-only --drones 50 --duration-s 5 --as-fast-as-possible 2>/dev/null) ||
  fail "as fast as possible: $out"
[[ $(field "$out" noop.reports_sent) == 250 && $(field "$out" noop.acked_reports) == 250 ]] ||
  fail "as fast as possible: $out"

if [[ -n "$DATA" && -f "$DATA/remoteid/network/zurich-two-flights.json" ]]; then
  out=$("$UTMSIM" --noop-only --replay "$DATA/remoteid/network/zurich-two-flights.json" \
    --as-fast-as-possible 2>/dev/null) || fail "replay: $out"
  # 17 + 13 states, one report each.
  [[ $(field "$out" noop.reports_sent) == 30 ]] || fail "replay: $out"
else
  echo "skipping the replay: no shared data"
fi

out=$("$UTMSIM" --target 10.1.2.3:7400 --drones 2 2>&1); code=$?
[[ $code == 64 && "$out" == *"loopback"* ]] || fail "non-loopback target accepted: $out"
out=$("$UTMSIM" --noop-only --drones 1000 --radius-m 500 2>&1); code=$?
[[ $code == 64 && "$out" == *"radius_m"* ]] || fail "tiny radius accepted: $out"
out=$("$UTMSIM" --noop-only --replay /nonexistent.json 2>&1); code=$?
[[ $code == 66 ]] || fail "unreadable replay: exit $code: $out"
echo "ok: utmsim streams to its no-op server, replays Remote ID flights, refuses non-loopback targets"
