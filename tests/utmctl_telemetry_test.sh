#!/usr/bin/env bash
# End-to-end: `utmctl telemetry ...` against a real utmd on loopback.
# Bad flags are refused before anything is sent, with the exact problem;
# two operators' drones fly head-on in parallel and both pilots (and a
# supervisor watching the area) are alerted before separation is lost, while
# another operator's watch of the same area sees none of it; a third flight
# leaves its intent (NONCONFORMANCE, the intent becomes NONCONFORMING); an
# aircraft reporting someone else's intent gets UNKNOWN_INTENT.
# Every wait is bounded; nothing depends on how fast the machine is, except
# that two background processes start within a few seconds of each other.
# Usage: utmctl_telemetry_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data"

tel() { "$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" "$@"; }
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1
carol=$(utmd_token operator carol) || exit 1
monitor=$(utmd_token monitor supervisor-1) || exit 1

# --- bad flags: refused locally, exit 64, the problem named -----------------
fly_ok() {  # fly_ok FROM VELOCITY [MORE FLAGS]: otherwise valid flags
  local from=$1 velocity=$2; shift 2
  echo --aircraft x1 --intent some-intent --from "$from" --velocity "$velocity" "$@"
}
check_usage() {  # check_usage 'EXPECTED MESSAGE' ARGS...
  local want=$1; shift
  local out code
  out=$(tel --token "$alice" "$@" 2>&1); code=$?
  [[ $code == 64 && "$out" == *"$want"* ]] ||
    fail "utmctl telemetry $*: want exit 64 and '$want', got $code: $out"
}
# (No flag below holds a space, so word splitting of $(fly_ok ...) is safe.)
check_usage '--from "95,8.55,150": latitude 95 is outside [-90, 90]' \
  fly $(fly_ok 95,8.55,150 0,10,0)
check_usage '--from "47.4,8.55": want LAT,LNG,ALT' fly $(fly_ok 47.4,8.55 0,10,0)
check_usage '--velocity "200,200,0": horizontal speed 282.8 m/s is above 250 m/s' \
  fly $(fly_ok 47.4,8.55,150 200,200,0)
check_usage '--rate-hz 0: want (0, 10]' fly $(fly_ok 47.4,8.55,150 0,10,0 --rate-hz 0)
check_usage '--until-alert "conflict": not an alert kind' \
  fly $(fly_ok 47.4,8.55,150 0,10,0 --until-alert conflict)
check_usage 'give the area: --area FILE, --circle lat,lng,radius_m or --bbox' watch --count 1
check_usage '--circle "47.4,8.55": want lat,lng,radius_m' watch --circle 47.4,8.55
check_usage '--kinds "collision": not an alert kind' watch --circle 47.4,8.55,100 --kinds collision
echo "ok: bad positions, speeds, rates, kinds and areas are refused before sending (exit 64)"

out=$(tel --token "$monitor" watch --circle 47.4,8.55,300000 --timeout-s 5 2>&1); code=$?
[[ $code == 2 && "$out" == *"INVALID_ARGUMENT: area.volume.outline_circle.radius_m"* ]] ||
  fail "a watch area beyond the server's reach: $code $out"
out=$(tel fly $(fly_ok 47.4,8.55,150 0,10,0 --duration-s 1) 2>&1 </dev/null); code=$?
[[ $code == 4 && "$out" == *UNAUTHENTICATED* ]] || fail "fly without a token: $code $out"
echo "ok: the server's refusals map to exit codes (INVALID_ARGUMENT 2, UNAUTHENTICATED 4)"

# --- intents, active from a minute ago ----------------------------------------
t0=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
intent_file() {  # intent_file FILE LAT LNG RADIUS_M
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": $4},
  "altitudeLower": {"valueM": 100, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 200, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
}
accepted_id() { sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$1"; }
# file_and_activate TOKEN FILE [PRIORITY]: prints the intent id.
file_and_activate() {
  local out id
  out=$(intent --token "$1" file "$2" --priority "${3:-0}" 2>&1) || fail "file $2: $out"
  id=$(accepted_id "$out")
  [[ -n "$id" ]] || fail "file $2: $out"
  out=$(intent --token "$1" activate "$id" --version 1 2>&1) || fail "activate $id: $out"
  [[ "$out" == *"ACTIVATED"* ]] || fail "activate $id: $out"
  echo "$id"
}
# Alice's and Bob's flights share a 500 m circle; Bob's (priority 5)
# outranks Alice's, so both are accepted and activated: the strategic layer
# leaves them to the tactical one.
intent_file "$work/shared.json" 47.40 8.55 500
alice_intent=$(file_and_activate "$alice" "$work/shared.json") || exit 1
bob_intent=$(file_and_activate "$bob" "$work/shared.json" 5) || exit 1
# Carol's: a 100 m circle 2.2 km north.
intent_file "$work/carol.json" 47.42 8.55 100
carol_intent=$(file_and_activate "$carol" "$work/carol.json") || exit 1

# --- head-on, a stray, and two watchers, all at once --------------------------
# A supervisor watches the area for conflicts; so does Carol, an operator,
# who must see none of Alice's and Bob's.
tel --token "$monitor" watch --circle 47.40,8.55,1500 \
  --kinds conflict_predicted,conflict_imminent,separation_lost --count 1 --timeout-s 60 \
  >"$work/monitor.out" 2>"$work/monitor.err" </dev/null &
monitor_pid=$!; background+=("$monitor_pid")
tel --token "$carol" watch --circle 47.40,8.55,1500 \
  --kinds conflict_predicted,conflict_imminent,separation_lost --count 1 --timeout-s 30 \
  >"$work/carol-watch.out" 2>"$work/carol-watch.err" </dev/null &
carol_watch_pid=$!; background+=("$carol_watch_pid")
# a1 and b1 start 500 m apart on the same parallel at the same altitude and
# fly at each other at 12 m/s: separation (50 m) is lost after 18.75 s,
# they pass at 20.8 s and are 50 m apart again at 22.9 s.
tel --token "$alice" fly --aircraft a1 --intent "$alice_intent" \
  --from 47.40,8.546685,150 --velocity 0,12,0 --duration-s 28 \
  >"$work/a1.out" 2>"$work/a1.err" </dev/null &
a1_pid=$!; background+=("$a1_pid")
tel --token "$bob" --json fly --aircraft b1 --intent "$bob_intent" \
  --from 47.40,8.553315,150 --velocity 0,-12,0 --duration-s 28 \
  >"$work/b1.out" 2>"$work/b1.err" </dev/null &
b1_pid=$!; background+=("$b1_pid")
# c1 leaves its 100 m circle eastwards at 15 m/s: its 3 m accuracy circle
# no longer meets the intent after 6.9 s.
tel --token "$carol" fly --aircraft c1 --intent "$carol_intent" \
  --from 47.42,8.55,150 --velocity 0,15,0 --duration-s 20 --until-alert nonconformance \
  >"$work/c1.out" 2>"$work/c1.err" </dev/null &
c1_pid=$!; background+=("$c1_pid")

wait "$a1_pid"; a1_code=$?
wait "$b1_pid"; b1_code=$?
wait "$c1_pid"; c1_code=$?
wait "$monitor_pid"; monitor_code=$?
wait "$carol_watch_pid"; carol_watch_code=$?
background=()
show() { for f in "$@"; do echo "--- $f"; cat "$work/$f"; done; }

# Alice's pilot: RAISED CONFLICT_PREDICTED first, SEPARATION_LOST later,
# then CLEARED; all 29 reports acknowledged, none refused.
[[ $a1_code == 0 ]] || fail "a1 exited $a1_code: $(show a1.out a1.err)"
first=$(head -n 1 "$work/a1.out")
[[ "$first" =~ ^[0-9T:-]+Z\ RAISED\ CONFLICT_PREDICTED\ a1\ b1:\ separation\ lost\ in\ [0-9.]+\ s,\ closest ]] ||
  fail "a1's first alert is not the predicted conflict with b1: $(show a1.out)"
predicted=$(grep -nE ' (CONFLICT_PREDICTED|CONFLICT_IMMINENT) a1 b1: separation lost in ' "$work/a1.out" | head -n 1 | cut -d: -f1)
lost=$(grep -nE ' UPDATED SEPARATION_LOST a1 b1: separation lost, closest ' "$work/a1.out" | head -n 1 | cut -d: -f1)
cleared=$(grep -nE ' CLEARED SEPARATION_LOST a1 b1$' "$work/a1.out" | head -n 1 | cut -d: -f1)
[[ -n "$lost" && -n "$cleared" && $predicted -lt $lost && $lost -lt $cleared ]] ||
  fail "a1: want predicted < separation lost < cleared: $(show a1.out)"
grep -q 'refused (batch' "$work/a1.err" && fail "a1: reports refused: $(show a1.err)"
grep -qE '^fly: ([0-9]+) report\(s\) sent, acknowledged up to batch \1, 0 refused' "$work/a1.err" ||
  fail "a1: not every report acknowledged: $(show a1.err)"
echo "ok: a1's pilot: conflict with b1 predicted ($predicted), separation lost ($lost), cleared ($cleared)"

# Bob's pilot, in JSON: the same alert (same id), same order.
[[ $b1_code == 0 ]] || fail "b1 exited $b1_code: $(show b1.out b1.err)"
/usr/bin/python3 - "$work/b1.out" "$work/a1.out" <<'PY' || fail "b1's JSON alerts: $(show b1.out)"
import json, sys
alerts = [json.loads(line) for line in open(sys.argv[1])]
assert alerts, "no alert"
first = alerts[0]
assert first["state"] == "ALERT_STATE_RAISED", first
assert first["kind"] == "ALERT_KIND_CONFLICT_PREDICTED", first
assert first["aircraft_ids"] == ["a1", "b1"], first
assert float(first["time_to_loss_of_separation"].rstrip("s")) > 0, first
kinds = [a["kind"] for a in alerts]
assert "ALERT_KIND_SEPARATION_LOST" in kinds, kinds
# Every conflict alert on this stream is the one a1/b1 alert.
assert len({a["id"] for a in alerts}) == 1, alerts
lost = kinds.index("ALERT_KIND_SEPARATION_LOST")
assert all(k != "ALERT_KIND_SEPARATION_LOST" for k in kinds[:lost]), kinds
assert alerts[-1]["state"] == "ALERT_STATE_CLEARED", alerts[-1]
PY
grep -qE '^fly: ([0-9]+) report\(s\) sent, acknowledged up to batch \1, 0 refused' "$work/b1.err" ||
  fail "b1: not every report acknowledged: $(show b1.err)"
echo "ok: b1's pilot (--json): the same alert raised as CONFLICT_PREDICTED before SEPARATION_LOST, then cleared"

# The supervisor saw the conflict; Carol, an operator, did not.
[[ $monitor_code == 0 ]] || fail "monitor's watch exited $monitor_code: $(show monitor.out monitor.err)"
grep -qE '^[0-9T:-]+Z (RAISED|UPDATED) CONFLICT_(PREDICTED|IMMINENT) a1 b1: separation lost in ' "$work/monitor.out" ||
  fail "the supervisor's watch did not see the conflict first: $(show monitor.out monitor.err)"
[[ $carol_watch_code == 75 && ! -s "$work/carol-watch.out" ]] ||
  fail "carol's watch ($carol_watch_code) saw others' alerts: $(show carol-watch.out carol-watch.err)"
echo "ok: a supervisor's watch of the area sees the conflict; another operator's sees nothing (exit 75)"

# Carol's stray: NONCONFORMANCE once outside, not before 6.9 s of flight
# (report 7 is sent 7 s or more after the first).
[[ $c1_code == 0 ]] || fail "c1 exited $c1_code: $(show c1.out c1.err)"
grep -qE "^[0-9T:-]+Z RAISED NONCONFORMANCE c1: c1 is outside every volume of intent $carol_intent\$" "$work/c1.out" ||
  fail "c1: no NONCONFORMANCE: $(show c1.out c1.err)"
sent=$(sed -n 's/^fly: \([0-9]*\) report(s) sent.*stopped at NONCONFORMANCE$/\1/p' "$work/c1.err")
[[ -n "$sent" && $sent -ge 7 && $sent -lt 21 ]] ||
  fail "c1: stopped after $sent reports; want 7 or more (still inside before 6.9 s) and early: $(show c1.err)"
out=$(intent --token "$carol" get "$carol_intent" 2>&1) || fail "get carol's intent: $out"
[[ "$out" == *"NONCONFORMING"* ]] || fail "carol's intent after leaving it: $out"
echo "ok: c1 leaving its intent: NONCONFORMANCE after $sent reports, the intent is NONCONFORMING"

# --- someone else's intent: UNKNOWN_INTENT ------------------------------------
out=$(tel --token "$bob" fly --aircraft b9 --intent "$alice_intent" --from 46.0,7.0,150 \
  --velocity 0,5,0 --duration-s 10 --until-alert unknown_intent 2>&1 </dev/null); code=$?
[[ $code == 0 && "$out" == *"RAISED UNKNOWN_INTENT b9: b9 reports intent $alice_intent, not an activated intent of its operator"* &&
   "$out" == *"stopped at UNKNOWN_INTENT"* ]] || fail "b9 on alice's intent: $code $out"
# The same flight waiting for an alert that never comes: exit 75.
out=$(tel --token "$bob" fly --aircraft b8 --intent "$bob_intent" --from 47.40,8.55,150 \
  --velocity 0,0,0 --duration-s 2 --rate-hz 2 --until-alert geofence_entry 2>&1 </dev/null); code=$?
[[ $code == 75 && "$out" == *"fly: no GEOFENCE_ENTRY alert for b8 within --duration-s 2"* &&
   "$out" == *"fly: 5 report(s) sent, acknowledged up to batch 5, 0 refused"* ]] ||
  fail "b8 waiting for a geofence: $code $out"
echo "ok: another operator's intent raises UNKNOWN_INTENT; --until-alert that never comes exits 75"

# --- above the speed limit: tracked and flagged, not refused ------------------
out=$(tel --token "$bob" fly --aircraft b7 --intent "$alice_intent" --from 46.0,7.1,150 \
  --velocity 0,60,0 --duration-s 10 --until-alert speed_above_limit 2>&1 </dev/null); code=$?
[[ $code == 0 && "$out" == *"RAISED SPEED_ABOVE_LIMIT b7: b7 reports 60.0 m/s horizontally and 0.0 m/s vertically, above the 50 m/s limit"* &&
   "$out" == *"stopped at SPEED_ABOVE_LIMIT"* && "$out" == *" 0 refused"* ]] ||
  fail "b7 at 60 m/s: $code $out"
echo "ok: a 60 m/s flight is tracked and flagged SPEED_ABOVE_LIMIT, not refused"

utmd_stop
echo "PASS"
