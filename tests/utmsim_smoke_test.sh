#!/usr/bin/env bash
# Smoke test of the traffic simulator against its no-op TelemetryService
# (a child process): a few drones for a few seconds must be streamed,
# acknowledged and summarised, with spread report phases (many small
# batches) and with aligned ones (one batch per stream and tick); a replay
# of the shared Remote ID test flights too (skipped when ../shared/data is
# absent); non-loopback targets and bad options are refused with 64. Then
# against a real utmd (--store memory): 40 drones for 30 s, spread phases,
# with two supervisor watchers must find every planned conflict and stray
# and the watchers every conflict alert the aircraft got, and report utmd's
# memory; a second run on the same utmd, aligned, flies under other
# aircraft ids, finds both conflicts, and a watcher with another operator's
# token sees none of them (exit 2); a third, with another operator's intent
# already over the centre, reports the filings that met it and exits 0.
# Usage: utmsim_smoke_test.sh UTMSIM [DATA_DIR [UTMD UTMCTL]]
# (UTMD and UTMCTL default to their places in UTMSIM's build tree.)
set -u
UTMSIM=$1 DATA=${2:-}
BUILD=$(cd "$(dirname "$UTMSIM")/.." && pwd)
UTMD=${3:-$BUILD/services/utmd/utmd} UTMCTL=${4:-$BUILD/services/utmctl/utmctl}
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"
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
# Spread phases (the default): each report goes out near its own time, so
# far more batches than the 3 streams x 6 ticks of aligned phases.
[[ $(field "$out" scenario.phase) == '"spread"' ]] || fail "default phase: $out"
(($(field "$out" noop.batches_sent) > 18)) || fail "spread reports went out in bursts: $out"
[[ $(field "$out" noop.superseded_reports) == 0 ]] || fail "superseded: $out"
out=$("$UTMSIM" --noop-only --drones 12 --streams 3 --duration-s 3 --rate 2 --phase aligned \
  2>/dev/null) || fail "aligned: $out"
[[ $(field "$out" scenario.phase) == '"aligned"' && $(field "$out" noop.reports_sent) == 72 &&
   $(field "$out" noop.batches_sent) == 18 && $(field "$out" noop.acked_reports) == 72 ]] ||
  fail "aligned: one batch per stream and tick: $out"

# As fast as possible: same reports, simulated time.
out=$("$UTMSIM" --noop-only --drones 50 --duration-s 5 --as-fast-as-possible 2>/dev/null) ||
  fail "as fast as possible: $out"
[[ $(field "$out" noop.reports_sent) == 250 && $(field "$out" noop.acked_reports) == 250 ]] ||
  fail "as fast as possible: $out"
# ... one batch per stream and tick, phases or not.
[[ $(field "$out" noop.batches_sent) == 20 ]] || fail "as fast as possible, 4 x 5 batches: $out"

if [[ -n "$DATA" && -f "$DATA/remoteid/network/zurich-two-flights.json" ]]; then
  out=$("$UTMSIM" --noop-only --replay "$DATA/remoteid/network/zurich-two-flights.json" \
    --as-fast-as-possible 2>/dev/null) || fail "replay: $out"
  # 17 + 13 states, one report each, at their recorded times.
  [[ $(field "$out" noop.reports_sent) == 30 &&
     $(field "$out" scenario.phase) == '"recorded"' ]] || fail "replay: $out"
else
  echo "skipping the replay: no shared data"
fi

out=$("$UTMSIM" --target 10.1.2.3:7400 --drones 2 2>&1); code=$?
[[ $code == 64 && "$out" == *"loopback"* ]] || fail "non-loopback target accepted: $out"
out=$("$UTMSIM" --noop-only --drones 1000 --radius-m 500 2>&1); code=$?
[[ $code == 64 && "$out" == *"radius_m"* ]] || fail "tiny radius accepted: $out"
out=$("$UTMSIM" --noop-only --replay /nonexistent.json 2>&1); code=$?
[[ $code == 66 ]] || fail "unreadable replay: exit $code: $out"
out=$("$UTMSIM" --noop-only --drones 10 --run-id 'a/b' 2>&1); code=$?
[[ $code == 64 && "$out" == *"--run-id"* ]] || fail "bad run id accepted: $code: $out"
out=$("$UTMSIM" --noop-only --drones 100 --duration-s 20 --strays 1 2>&1); code=$?
[[ $code == 64 && "$out" == *"strays:"* ]] || fail "a stray in too short a run: $code: $out"

# --- against utmd -----------------------------------------------------------
[[ -x "$UTMD" && -x "$UTMCTL" ]] ||
  fail "utmd and utmctl not found at $UTMD, $UTMCTL (ninja utmd utmctl)"
utmd_start "$work/utmd.out" "$work/data" --store memory
operator=$(utmd_token operator sim-operator) || exit 1
monitor=$(utmd_token monitor sim-monitor) || exit 1
stranger=$(utmd_token operator someone-else) || exit 1

# 40 drones: one head-on pair, one crossing pair, one stray (30 s: time for
# the stray to get out), the rest conflict-free, each drone at its own
# phase. Two supervisor watchers.
out=$("$UTMSIM" --target "127.0.0.1:$utmd_port" --token "$operator" --no-noop \
  --drones 40 --duration-s 30 --watchers 2 --watch-token "$monitor" \
  --server-pid "$utmd_pid" 2>"$work/err1"); code=$?
[[ $code == 0 && $(field "$out" ok) == true ]] || fail "utmd run: exit $code: $out $(cat "$work/err1")"
[[ $(field "$out" scenario.phase) == '"spread"' && $(field "$out" utmd.report_errors) == 0 ]] ||
  fail "spread run: $out"
# utmd's memory before the streams and at the end, and its coalescing count.
/usr/bin/python3 -c 'import json,sys
u=json.loads(sys.argv[1])["utmd"]; m=u["server_memory"]
assert m["rss_before_streams_bytes"] > 0 and m["rss_end_bytes"] > 0, m
assert m["hwm_end_bytes"] >= m["rss_end_bytes"] and m["live_tracks"] == 40, m
assert "rss_per_track_bytes" in m and u["superseded_reports"] >= 0, u
assert u["cpu"]["server_us_per_report"] > 0, u["cpu"]' "$out" || fail "server figures: $out"
[[ $(field "$out" utmd.truth.conflicts.expected) == 2 &&
   $(field "$out" utmd.truth.conflicts.found) == 2 &&
   $(field "$out" utmd.truth.strays.expected) == 1 &&
   $(field "$out" utmd.truth.strays.found) == 1 &&
   $(field "$out" utmd.truth.conflicts.unexpected_pairs) == 0 &&
   $(field "$out" utmd.truth.strays.unexpected_aircraft) == 0 ]] || fail "truth: $out"
[[ $(field "$out" utmd.truth.strays.missed_list) == "[]" ]] || fail "missed list: $out"
[[ $(field "$out" utmd.watchers.count) == 2 && $(field "$out" utmd.watchers.ready) == 2 &&
   $(field "$out" utmd.watchers.failed) == 0 &&
   $(field "$out" utmd.watchers.saw_every_conflict) == true &&
   $(field "$out" utmd.watchers.conflicts.alerts_missed) == 0 ]] || fail "watchers: $out"
# Both pairs raised (and the one whose loss ends in the run cleared) reached
# the aircraft, and so every watcher; each watcher saw the stray's alert too.
(($(field "$out" utmd.watchers.conflicts.alerts_on_position_streams) >= 2 &&
  $(field "$out" utmd.watchers.conflicts.raised_and_cleared) >= 3 &&
  $(field "$out" utmd.watchers.alert_latency_ms.count) > 0)) || fail "watched alerts: $out"
/usr/bin/python3 -c 'import json,sys
w=json.loads(sys.argv[1])["utmd"]["watchers"]
assert w["alert_messages_per_watcher"] >= w["conflicts"]["raised_and_cleared"] + 1, w' "$out" ||
  fail "watchers got fewer messages than the conflicts and the stray: $out"
run1=$(field "$out" scenario.run_id)
[[ $run1 =~ ^\"[0-9a-f]{8}\"$ && $(field "$out" scenario.first_aircraft_id) == "\"sim1-${run1//\"/}-head_on-0\"" ]] ||
  fail "run id: $out"

# Same utmd within a minute, same seed, aligned phases: other aircraft ids
# (--run-id), and a watcher holding another operator's token sees none of
# these aircraft's conflicts, which fails the run with 2.
out=$("$UTMSIM" --target "127.0.0.1:$utmd_port" --token "$operator" --no-noop \
  --drones 40 --duration-s 12 --run-id smoke-b --watchers 1 --phase aligned \
  --watch-token "$stranger" 2>"$work/err2"); code=$?
[[ $code == 2 && $(field "$out" ok) == false ]] || fail "blind watcher: exit $code: $out"
[[ $(field "$out" scenario.first_aircraft_id) == '"sim1-smoke-b-head_on-0"' &&
   $(field "$out" scenario.phase) == '"aligned"' ]] || fail "--run-id: $out"
[[ $(field "$out" utmd.truth.conflicts.found) == 2 &&
   $(field "$out" utmd.truth.conflicts.unexpected_pairs) == 0 &&
   $(field "$out" utmd.report_errors) == 0 &&
   $(field "$out" utmd.watchers.saw_every_conflict) == false &&
   $(field "$out" utmd.watchers.conflicts.watchers_complete) == 0 ]] || fail "second run: $out"
(($(field "$out" utmd.watchers.conflicts.alerts_missed) >= 2)) || fail "second run: $out"

# Other traffic already in the area: another operator's intent over the
# centre, filed first. The drones whose intents meet it are reported, not
# failed (exit 0); they fly without an intent, and their conflicts are
# still found.
cat >"$work/foreign.json" <<'JSON'
{"volumes": [{"volume": {
   "outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": 8.5417}, "radiusM": 600},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 2000, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "2027-01-15T09:00:00Z", "timeEnd": "2027-01-15T10:00:00Z"}]}
JSON
foreign=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$stranger"   file "$work/foreign.json" --start now 2>&1) || fail "foreign intent: $foreign"
[[ "$foreign" =~ ^ACCEPTED\ intent\ ([0-9a-f-]+): ]] || fail "foreign intent said: $foreign"
foreign_id=${BASH_REMATCH[1]}
out=$("$UTMSIM" --target "127.0.0.1:$utmd_port" --token "$operator" --no-noop \
  --drones 40 --duration-s 12 --run-id smoke-c 2>"$work/err3"); code=$?
[[ $code == 0 && $(field "$out" ok) == true ]] ||
  fail "other traffic failed the run: exit $code: $out $(cat "$work/err3")"
(($(field "$out" utmd.intents.rejected_by_foreign_traffic) >= 1)) ||
  fail "no filing met the other traffic: $out"
[[ $(field "$out" utmd.intents.rejected) == 0 &&
   $(field "$out" utmd.intents.foreign_traffic) == "[\"intent $foreign_id\"]" &&
   $(field "$out" utmd.truth.conflicts.found) == 2 ]] || fail "other traffic: $out"
grep -q "other traffic in the area: .* intent(s) rejected for meeting intent $foreign_id" "$work/err3" ||
  fail "no line about the other traffic: $(cat "$work/err3")"
utmd_stop
echo "ok: utmsim streams to its no-op server (spread and aligned phases), replays Remote ID flights, refuses non-loopback targets; against utmd finds every conflict and stray with spread phases, its watchers see every conflict, a second run (aligned) flies other aircraft ids, other traffic in the area is reported, not failed"
