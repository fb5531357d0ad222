#!/usr/bin/env bash
# End-to-end: `utmctl rid ...` against a real utmd on loopback. Bad views are
# refused; the network Remote ID test flights are published and seen in the
# display (flights in a small view, clusters in a wider one); an aircraft
# streaming positions appears under a session id, never its aircraft id;
# flight details go only to the police with a case reference, and the audit
# log holds the disclosure; the invalid test flights are refused naming their
# field; broadcast captures replayed by a receiver show the aircraft heard,
# with its operator in the details. Every wait is bounded.
# Usage: utmctl_rid_test.sh UTMD UTMCTL SHARED_DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
DATA=$3/remoteid/network
BCAST=$3/remoteid/broadcast
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data"

rid() { "$UTMCTL" rid --server "127.0.0.1:$utmd_port" "$@"; }
uss=$(utmd_token operator uss-1) || exit 1
alice=$(utmd_token operator alice) || exit 1
public=$(utmd_token display public-1) || exit 1
police=$(utmd_token police officer-17) || exit 1
receiver=$(utmd_token receiver receiver-or-1) || exit 1
receiver2=$(utmd_token receiver receiver-or-2) || exit 1

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

# --- the operator's own fleet -----------------------------------------------------
fleet() { "$UTMCTL" fleet --server "127.0.0.1:$utmd_port" "$@"; }
out=$(fleet --token "$alice" watch --count 1 2>&1) || fail "fleet watch: $out"
[[ "$out" == *": 1 aircraft"* && "$out" == *"drone-7 intent $intent_id activated "* &&
   "$out" == *"shown as $session"* ]] || fail "alice's fleet: $out"
out=$(fleet --token "$uss" watch --count 1 2>&1) || fail "uss-1's fleet watch: $out"
[[ "$out" == *": 0 aircraft"* && "$out" != *drone-7* ]] ||
  fail "another operator's fleet shows alice's aircraft: $out"
out=$(fleet --token "$public" watch --count 1 2>&1); code=$?
[[ $code == 4 && "$out" == *"lacks scope utm.strategic_coordination"* ]] ||
  fail "a display token on the fleet: $code $out"
out=$(fleet --token "$alice" --json watch --count 1 2>&1) || fail "fleet --json: $out"
[[ "$out" == *'"aircraft_id":"drone-7"'* && "$out" == *'"intent_state":"INTENT_STATE_ACTIVATED"'* ]] ||
  fail "fleet --json: $out"
echo "ok: alice's fleet shows drone-7 with its intent; nobody else's fleet does"

# --- a published flight with no intent here is an intruder ---------------------
# Alice's drone-8 flies east at 5 m/s; a provider's flight ABCD4TEST comes
# from 300 m east at 10 m/s, head-on, at her altitude: she is alerted.
{
  echo '{"flights": [{"reference_time": "2022-01-01T00:00:00Z",'
  echo ' "flight_details": {"id": "i-1", "serial_number": "ABCD4TEST", "operator_id": "CHE-OP-1"},'
  echo ' "aircraft_type": "Helicopter", "states": ['
  for i in $(seq 1 20); do
    lng=$(awk -v i="$i" 'BEGIN { printf "%.6f", 7.4540 - i * 10 / 76000 }')
    [[ $i == 1 ]] || echo ','
    echo "{\"timestamp\": \"2022-01-01T00:00:$(printf %02d "$i")Z\", \"timestamp_accuracy\": 0.1,"
    echo " \"operational_status\": \"Airborne\", \"track\": 270, \"speed\": 10, \"speed_accuracy\": \"SA1mps\","
    echo " \"vertical_speed\": 0, \"position\": {\"lat\": 46.952, \"lng\": $lng, \"alt\": 600,"
    echo " \"accuracy_h\": \"HA3m\", \"accuracy_v\": \"VA3m\", \"height\": {\"distance\": 50, \"reference\": \"TakeoffLocation\"}}}"
  done
  echo ']}]}'
} >"$work/intruder.json"
rid --token "$uss" publish "$work/intruder.json" >"$work/publish.out" 2>&1 &
background+=("$!")
publish_pid=$!
out=$("$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" --token "$alice" fly \
        --aircraft drone-8 --intent "$intent_id" --from 46.952,7.45,600 --velocity 0,5,0 \
        --duration-s 20 --until-alert conflict_predicted 2>&1) ||
  fail "drone-8 was not alerted to the intruder: $out"
grep -qE 'RAISED CONFLICT_PREDICTED (ABCD4TEST drone-8|drone-8 ABCD4TEST)' <<<"$out" ||
  fail "the conflict does not name the intruder: $out"
kill "$publish_pid" 2>/dev/null; wait "$publish_pid" 2>/dev/null
echo "ok: a drone on a collision course with a published flight (no intent here) is alerted"

# --- the network Remote ID test flights -----------------------------------------
if [[ ! -f "$DATA/zurich-two-flights.json" ]]; then
  echo "SKIP: the network Remote ID sample flights are not in $DATA"
  utmd_stop
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

# --- broadcast: a ground receiver replays the sample captures ----------------
if [[ -f "$BCAST/odid_wifi_bcn_sample.pcap" ]]; then
  out=$(rid --token "$public" replay --receiver-position 45.545,-122.97 --all-at-once \
          "$BCAST/odid_wifi_bcn_sample.pcap" 2>&1); code=$?
  [[ $code == 4 && "$out" == *"lacks scope utm.rid_receiver"* ]] ||
    fail "replay with a display token: $code $out"
  out=$(rid --token "$receiver" replay --receiver-position 45.545,-122.97 --all-at-once \
          "$BCAST/odid_wifi_bcn_sample.pcap" 2>&1) || fail "replay (beacon): $out"
  [[ "$out" == "replayed 21 frame(s): 21 accepted, 0 refused, 21 aircraft position(s)" ]] ||
    fail "replay (beacon): $out"
  # Another receiver, which never heard this transmitter's Basic ID (the
  # NAN capture has none): it shows the aircraft by its address.
  out=$(rid --token "$receiver2" replay --receiver-position 45.545,-122.97 --all-at-once \
          "$BCAST/odid_wifi_sample.pcap" 2>&1) || fail "replay (NAN): $out"
  [[ "$out" == "replayed 42 frame(s): 42 accepted, 0 refused, "* ]] || fail "replay (NAN): $out"
  out=$(rid --token "$public" view --around 45.5452,-122.9700,1400 2>&1) || fail "view: $out"
  grep -q '^MFG1A0123456789 broadcast 45\.54[0-9]*,-122\.9[0-9]* 237\.0 m ' <<<"$out" || fail "the beacon sample's aircraft: $out"
  grep -q '^tx-84:cc:a8:60:43:24 broadcast 45\.54' <<<"$out" ||
    fail "the NAN sample's aircraft (no Basic ID): $out"
  out=$(rid --token "$police" details MFG1A0123456789 --case OR-2026-0007 2>&1) ||
    fail "details of a broadcast aircraft: $out"
  [[ "$out" == *"operator_id: GBR-OP-123ABCD"* && "$out" == *"operator_location: 45.544388,-122.972687"* &&
     "$out" == *"description: Recreational"* && "$out" == *"heard_by: receiver-or-1"* ]] ||
    fail "details of a broadcast aircraft: $out"
  echo "ok: replayed captures show the aircraft heard; details name its operator and the receiver"
else
  echo "SKIP: the broadcast Remote ID sample captures are not in $BCAST"
fi

utmd_stop
echo "PASS"
