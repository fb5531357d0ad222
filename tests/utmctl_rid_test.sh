#!/usr/bin/env bash
# End-to-end: `utmctl rid ...` against a real utmd on loopback. Bad views are
# refused; the network Remote ID test flights are published and seen in the
# display (flights in a small view, clusters in a wider one); an aircraft
# streaming positions appears under a session id, never its aircraft id;
# flight details go only to the police with a case reference, and the audit
# log holds the disclosure; the invalid test flights are refused naming their
# field. Every wait is bounded.
# Usage: utmctl_rid_test.sh UTMD UTMCTL SHARED_DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
DATA=$3/remoteid/network
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data"

rid() { "$UTMCTL" rid --server "127.0.0.1:$utmd_port" "$@"; }
uss=$(utmd_token operator uss-1) || exit 1
alice=$(utmd_token operator alice) || exit 1
public=$(utmd_token display public-1) || exit 1
police=$(utmd_token police officer-17) || exit 1

# --- bad views ------------------------------------------------------------------
out=$(rid --token "$public" view 2>&1); code=$?
[[ $code == 64 && "$out" == *"give exactly one of --bbox and --around"* ]] ||
  fail "view without a view: $code $out"
out=$(rid --token "$public" view --around 47.37,8.49 2>&1); code=$?
[[ $code == 64 && "$out" == *'--around "47.37,8.49": want lat,lng,side_m'* ]] ||
  fail "view --around without a side: $code $out"
out=$(rid --token "$public" view --around 47.37,8.49,6000 2>&1); code=$?
[[ $code == 2 && "$out" == *"INVALID_ARGUMENT: view: diagonal 8.49 km exceeds 7 km (ASTM F3411-22a NetMaxDisplayAreaDiagonal)"* ]] ||
  fail "a view 8.5 km across: $code $out"
out=$(rid --token "$alice" view --around 47.37,8.49,1000 2>&1); code=$?
[[ $code == 4 && "$out" == *"lacks scope utm.rid_display"* ]] ||
  fail "an operator's token on the display: $code $out"
echo "ok: bad views are refused (exit 64 locally, 2 by the server), the display needs utm.rid_display"

# --- an aircraft streaming positions: shown under a session id ----------------
t0=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/intent.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 46.95, "lngDeg": 7.45}, "radiusM": 800},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 700, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
out=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$alice" file "$work/intent.json" 2>&1) ||
  fail "file: $out"
intent_id=$(sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$out")
out=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$alice" activate "$intent_id" --version 1 2>&1) ||
  fail "activate: $out"
"$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" --token "$alice" fly \
  --aircraft drone-7 --intent "$intent_id" --from 46.95,7.45,600 --velocity 0,5,0 \
  --duration-s 4 >"$work/fly.out" 2>&1 &
background+=("$!")
fly_pid=$!
seen=""
for _ in $(seq 1 40); do
  out=$(rid --token "$public" view --around 46.95,7.45,1400 2>&1) || fail "view: $out"
  if [[ "$out" == utm-*" network "* ]]; then seen=$out; break; fi
  sleep 0.1
done
[[ -n "$seen" ]] || fail "the streaming aircraft never showed: $out"
[[ "$seen" != *drone-7* ]] || fail "the display shows the aircraft id: $seen"
session=${seen%% *}
wait "$fly_pid" || fail "fly: $(cat "$work/fly.out")"
out=$(rid --token "$police" details "$session" --case BE-2026-0099 2>&1) ||
  fail "details of $session: $out"
[[ "$out" == *"operator_account: alice"* && "$out" == *"aircraft_id: drone-7"* &&
   "$out" == *"intent_id: $intent_id"* ]] || fail "details of $session: $out"
echo "ok: a streaming aircraft shows as $session, its identity only in the details"

# --- the network Remote ID test flights -----------------------------------------
if [[ ! -f "$DATA/zurich-two-flights.json" ]]; then
  echo "SKIP: the network Remote ID sample flights are not in $DATA"
  exit 0
fi
out=$(rid --token "$uss" publish --all-at-once "$DATA/zurich-two-flights.json" 2>&1) ||
  fail "publish: $out"
[[ "$out" == "published 30 state(s) of 2 flight(s)" ]] || fail "publish: $out"
out=$(rid --token "$public" view --bbox 47.3690,8.4875,47.3720,8.5095 2>&1) || fail "view: $out"
grep -q '^1AKGAAN8G70R7JS network_published 47.369896,8.488461 522.1 m ' <<<"$out" ||
  fail "the U-turn flight's last state: $out"
grep -q '^ULYK563L5G network_published 47.371333,8.508885 595.7 m ' <<<"$out" ||
  fail "the circle flight's last state: $out"
out=$(rid --token "$public" --json view --bbox 47.3690,8.4875,47.3720,8.5095 2>&1) ||
  fail "view --json: $out"
[[ "$out" == *'"id":"1AKGAAN8G70R7JS"'* && "$out" == *'"recent_positions"'* ]] ||
  fail "view --json: $out"
out=$(rid --token "$public" view --around 47.3707,8.4980,4000 2>&1) || fail "wide view: $out"
[[ "$out" == *"cluster of "* && "$out" != *1AKGAAN8G70R7JS* ]] ||
  fail "a 4 km view should give clusters only: $out"
echo "ok: the published test flights show with their last states; a 4 km view only clusters"

out=$(rid --token "$public" watch --bbox 47.3690,8.4875,47.3720,8.5095 --count 2 --timeout-s 10 2>&1) ||
  fail "watch: $out"
[[ $(grep -c ' update [0-9]*: 2 flight(s), 0 cluster(s)$' <<<"$out") == 2 ]] ||
  fail "watch --count 2: $out"
echo "ok: rid watch streams the view"

# --- details: police with a case reference only, audited ----------------------
out=$(rid --token "$public" details 1AKGAAN8G70R7JS --case X 2>&1); code=$?
[[ $code == 4 && "$out" == *"lacks scope utm.law_enforcement"* ]] ||
  fail "details for the public: $code $out"
out=$(rid --token "$police" details 1AKGAAN8G70R7JS 2>&1); code=$?
[[ $code == 64 && "$out" == *"--case is required"* ]] || fail "details without --case: $code $out"
out=$(rid --token "$police" details 1AKGAAN8G70R7JS --case "" 2>&1); code=$?
[[ $code == 2 && "$out" == *"case_reference: required"* ]] ||
  fail "details with an empty case: $code $out"
grep -q 1AKGAAN8G70R7JS "$work/data/audit.log" && fail "audited before any disclosure"
out=$(rid --token "$police" details 1AKGAAN8G70R7JS --case ZH-2026-0042 2>&1) ||
  fail "details: $out"
[[ "$out" == *"serial_number: 1AKGAAN8G70R7JS"* && "$out" == *"operator_id: CHE-RP-f39mqfitkh9e5"* &&
   "$out" == *"operator_location: 47.370860,8.487909"* ]] || fail "details: $out"
line=$(grep 1AKGAAN8G70R7JS "$work/data/audit.log") || fail "no audit entry for the details"
[[ "$line" == *officer-17* && "$line" == *ZH-2026-0042* ]] || fail "audit entry: $line"
echo "ok: details only to the police with a case reference; the audit log names officer, case and aircraft"

# --- the invalid test flights: refused naming the field ------------------------
out=$(rid --token "$uss" publish --all-at-once "$DATA/invalid/invalid_wrong_speed.json" 2>&1); code=$?
[[ $code == 2 && "$out" == *"INVALID_ARGUMENT: flights[0].states[0].speed_mps: -5 is outside [0, 254.25]"* ]] ||
  fail "negative speed: $code $out"
out=$(rid --token "$uss" publish --all-at-once "$DATA/invalid/invalid_wrong_accuracy_h.json" 2>&1); code=$?
[[ $code == 2 && "$out" == *'flights[0].states[0].position.accuracy_h: "WRONG" is not one of'* ]] ||
  fail "unknown accuracy: $code $out"
echo "ok: invalid flights are refused naming the field, by the server or before sending"

utmd_stop
echo "PASS"
