#!/usr/bin/env bash
# The utmd demo: installs what is missing, builds (Release), and runs a short
# scenario showing what works so far. It grows with each capability.
#
# Today: utmd starts (embedded default, no Redis, dev-mode tokens), two
# operators file overlapping flight intents and get exact, explained
# verdicts, a retry is idempotent, a stale write is refused, a police read is
# audited; a regulator's wildfire TFR (a geofence) lands over an accepted
# flight: a watching ground station is told at once, a new flight into it is
# refused with the exact overlap, a rescue operator flies in it under a grant,
# and a position check shows it applies. Then drones fly (`utmctl telemetry
# fly` streams real-time position reports): two converge head-on and both
# pilots — and a supervisor watching the area — are alerted before separation
# is lost; one strays out of its intent (NONCONFORMANCE); Erin, without a
# grant, flies into the TFR (GEOFENCE_ENTRY). Remote ID: a provider's flight
# is on the public display without its identity; the public is refused its
# operator, the police get it with a case reference, and the audit log holds
# the disclosure. Registration is required here, as in the US and the EU:
# only registered drones above 250 g take off, and a registration revoked in
# flight alerts the pilot. Operators own their data: Alice watches her own
# fleet in flight, exports a flight log and everything utmd holds about her,
# and has it erased (refused while she flies; the police's reads kept under
# a pseudonym); Frank flies in Local Data Mode and no file holds anything of
# him. The geometry core is shown offline through `utmctl geo`.
#
# The live airspace map is served all along (utmd --http): the demo prints its
# URL and a token to sign in with, so the airspace can be watched while the
# demo runs; --keep-up leaves utmd and the map up at the end until Ctrl-C.
#
# Usage: scripts/demo.sh [--keep-up]   (BUILD_DIR=dir to build elsewhere than
# build-release; MAP_HTTP=host:port for the map's address, default a free
# loopback port)
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP_UP=0
for arg in "$@"; do
  case "$arg" in
    --keep-up) KEEP_UP=1 ;;
    *) echo "usage: scripts/demo.sh [--keep-up]" >&2; exit 64 ;;
  esac
done

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
WATCH_PID=""
FLY_PIDS=()
cleanup() {
  if [[ -n "$WATCH_PID" ]]; then kill -KILL "$WATCH_PID" 2>/dev/null || true; fi
  for p in "${FLY_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [[ -n "$UTMD_PID" ]]; then
    kill -TERM "$UTMD_PID" 2>/dev/null || true
    for _ in $(seq 1 120); do  # up to 12 s: the drain, then give up
      kill -0 "$UTMD_PID" 2>/dev/null || break
      [[ $(ps -o stat= -p "$UTMD_PID" 2>/dev/null) == Z* ]] && break
      sleep 0.1
    done
    kill -KILL "$UTMD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs a command that is expected to exit with a given code.
expect() {
  local want=$1; shift
  local shown="$*"
  shown=${shown//$UTMCTL/utmctl}
  [[ $1 == intent || $1 == constraint || $1 == telemetry || $1 == rid ||
     $1 == registry || $1 == operator || $1 == flight ]] &&
    shown="utmctl $shown"
  for name in ALICE BOB POLICE FOCA DANA ERIN REGA SUPERVISOR PUBLIC USS AUDITOR CAA FRANK; do
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

step "0. Start utmd (embedded store, loopback, a free port; aircraft above 250 g must be registered)"
"$UTMD" --listen 127.0.0.1:0 --data-dir "$WORK/data" --registration-threshold-g 250 \
  --http "${MAP_HTTP:-127.0.0.1:0}" >"$WORK/utmd.log" 2>&1 </dev/null &
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
# The live map: open it in a browser and sign in with a monitor's token (it
# sees every aircraft and alert). It opens over Chur, where the TFR lands.
MAP_URL=$(sed -n 's/^utmd: map on \(http[^ ]*\).*/\1/p' "$WORK/utmd.log")
MAP_TOKEN=$("$UTMCTL" token --role monitor --sub map-viewer --data-dir "$WORK/data")
printf '\ndemo: the live map: %s#46.85,9.53,12\ndemo: sign in with this token: %s\n' \
  "$MAP_URL" "$MAP_TOKEN"
# A Remote ID display token sees what the public display shows instead
# (zoomed in to 2 km: each aircraft; the provider's flight is over Zurich).
RID_TOKEN=$("$UTMCTL" token --role display --sub map-public --data-dir "$WORK/data")
printf 'demo: the Remote ID layer: %s#47.3769,8.5417,16 with this token: %s\n' \
  "$MAP_URL" "$RID_TOKEN"

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

step "F. Bob sees Alice's intent without her identity; the police, with a case reference, see it, and it is audited"
expect 0 intent --token "$BOB" get "$ID"
expect 0 intent --token "$POLICE" get "$ID" --case ZH-2026-WARRANT-0101

# The geofence scenario, 120 km away from Alice's and Bob's flights: a
# wildfire near Chur. Dana has a flight there; Erin wants one; REGA's rescue
# helicopter drone must fly in the fire zone; CH-FOCA is the regulator.
FOCA=$("$UTMCTL" token --role regulator --sub CH-FOCA --data-dir "$WORK/data")
DANA=$("$UTMCTL" token --role operator --sub dana --data-dir "$WORK/data")
ERIN=$("$UTMCTL" token --role operator --sub erin --data-dir "$WORK/data")
REGA=$("$UTMCTL" token --role operator --sub rega --data-dir "$WORK/data")
constraint() { "$UTMCTL" constraint --server "127.0.0.1:$PORT" "$@"; }
# A 200 m circle at a point, 500-620 m above WGS84, from T0 to T1.
flight_at() {
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 200},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$T0", "timeEnd": "$T1"}]}
JSON
}
flight_at "$WORK/dana.json" 46.8500 9.5300
flight_at "$WORK/erin.json" 46.8560 9.5400
flight_at "$WORK/rega.json" 46.8440 9.5200
TFR_END=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
cat >"$WORK/wildfire-tfr.json" <<JSON
{"type": "CONSTRAINT_TYPE_PROHIBITED", "reason": "Wildfire: firefighting helicopters",
 "messageForPilots": "No drones within 3 km of the fire. Rescue flights by authorisation only.",
 "authority": {"name": "Federal Office of Civil Aviation", "contact": "+41 58 465 80 39"},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 46.8500, "lngDeg": 9.5300}, "radiusM": 3000},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 3000, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$TFR_END"}]}
JSON
AREA=46.75,9.40,46.95,9.66
# Waits (up to 10 s) for a line matching a regex in the watcher's output.
await_watch() {
  for _ in $(seq 1 200); do
    grep -qE "$1" "$WORK/watch.out" && return 0
    sleep 0.05
  done
  echo "demo: the watcher did not print '$1':" >&2
  cat "$WORK/watch.out" "$WORK/watch.err" >&2
  exit 1
}
show_watch() { sed 's/^/  watcher> /' "$WORK/watch.out"; }

step "G. Dana's ground station watches the area around Chur (a snapshot, then every change)"
echo "\$ utmctl constraint --token \$DANA watch --bbox $AREA --heartbeat-s 5 --timeout-s 120 &"
"$UTMCTL" constraint --server "127.0.0.1:$PORT" --token "$DANA" watch --bbox "$AREA" \
  --heartbeat-s 5 --timeout-s 120 >"$WORK/watch.out" 2>"$WORK/watch.err" </dev/null &
WATCH_PID=$!
await_watch '^seq [0-9]+ snapshot end'
show_watch

step "H. Dana files a flight there: accepted"
expect 0 intent --token "$DANA" file "$WORK/dana.json"

step "I. A wildfire: the regulator publishes a TFR (PROHIBITED, 3 km) over Dana's flight"
expect 0 constraint --token "$FOCA" publish "$WORK/wildfire-tfr.json" --request-id wildfire-1
TFR=$(constraint --token "$FOCA" publish "$WORK/wildfire-tfr.json" --request-id wildfire-1 |
  sed -n 's/^PUBLISHED constraint \([^:]*\):.*/\1/p')
echo "Dana's watcher was told at once, and that the TFR cuts through her flight:"
await_watch "^seq [0-9]+ intents_affected $TFR "
show_watch

step "J. Erin files a flight into the TFR: refused, naming the TFR, the volumes and the window"
expect 1 intent --token "$ERIN" file "$WORK/erin.json"

step "K. The regulator authorises REGA's rescue flights in the TFR for two hours"
GRANT_FROM=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
GRANT_TO=$(date -u -d '+2 hour' +%Y-%m-%dT%H:%M:%SZ)
expect 0 constraint --token "$FOCA" grant "$TFR" --operator rega \
  --from "$GRANT_FROM" --to "$GRANT_TO" --reference "REGA-SAR-4711"

step "L. REGA files its rescue flight: accepted, with the TFR as an advisory"
expect 0 intent --token "$REGA" file "$WORK/rega.json"

step "M. Where am I? Inside the TFR it applies (REGA is authorised); just outside, Erin sees it nearby"
expect 0 constraint --token "$REGA" check --lat 46.8500 --lng 9.5300 --alt-m 550
expect 0 constraint --token "$ERIN" check --lat 46.8800 --lng 9.5300 --radius-m 5000

step "N. Stop the watcher: it prints where to resume (--since)"
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || true
WATCH_PID=""
show_watch
sed 's/^/  watcher> /' "$WORK/watch.err"

# Drones in the air: intents flown now (from a minute ago, for 30 minutes),
# 500-620 m above WGS84; each `telemetry fly` streams one report a second,
# stamped now, and prints the alerts its operator receives.
NOW0=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
NOW1=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
SUPERVISOR=$("$UTMCTL" token --role monitor --sub ops-supervisor --data-dir "$WORK/data")
telemetry() { "$UTMCTL" telemetry --server "127.0.0.1:$PORT" "$@"; }
# flying_now FILE LAT LNG RADIUS_M
flying_now() {
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": $4},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$NOW0", "timeEnd": "$NOW1"}]}
JSON
}
# file_and_activate TOKEN_NAME FILE REQUEST_ID PRIORITY AIRCRAFT: files,
# then takes off with the (registered) aircraft; sets FLOWN.
file_and_activate() {
  local token=${!1}
  expect 0 intent --token "$token" file "$2" --request-id "$3" --priority "$4"
  # The first "intent" is the one filed (advisories name others).
  FLOWN=$(intent --token "$token" --json file "$2" --request-id "$3" --priority "$4" |
    grep -o '"intent":{"id":"[^"]*"' | head -n 1 | cut -d'"' -f6)
  expect 0 intent --token "$token" activate "$FLOWN" --version 1 --aircraft "$5"
}
# fly_bg NAME ARGS...: `utmctl telemetry ARGS` in the background, output to
# $WORK/NAME.{out,err}.
declare -A FLY_PID
fly_bg() {
  local name=$1; shift
  local shown="utmctl telemetry $*"
  for t in ALICE BOB DANA ERIN SUPERVISOR FRANK; do
    [[ -n "${!t:-}" ]] && shown=${shown//${!t}/\$$t}
  done
  echo "\$ $shown &"
  telemetry "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
  FLY_PID[$name]=$!
  FLY_PIDS+=("$!")
}
# landed NAME [WANT_CODE]: waits for it, shows its output, checks its code.
landed() {
  local name=$1 want=${2:-0} got
  set +e; wait "${FLY_PID[$name]}"; got=$?; set -e
  sed "s/^/  $name> /" "$WORK/$name.out" "$WORK/$name.err"
  if [[ $got != "$want" ]]; then
    echo "demo: $name: expected exit code $want, got $got" >&2
    exit 1
  fi
}
# warned_before_loss NAME: the first conflict alert in its output comes
# before the first SEPARATION_LOST, and both are there.
warned_before_loss() {
  local warned lost
  warned=$(grep -nE ' (CONFLICT_PREDICTED|CONFLICT_IMMINENT) .*separation lost in ' "$WORK/$1.out" |
    head -n 1 | cut -d: -f1)
  lost=$(grep -n ' SEPARATION_LOST ' "$WORK/$1.out" | head -n 1 | cut -d: -f1)
  if [[ -z "$warned" || -z "$lost" || $warned -ge $lost ]]; then
    echo "demo: $1 was not warned before separation was lost" >&2
    exit 1
  fi
}
# requires LINE_REGEX NAME: the output of NAME has such a line.
requires() {
  grep -qE "$1" "$WORK/$2.out" || { echo "demo: $2 printed no line matching '$1'" >&2; exit 1; }
}

# The drones (ANSI/CTA-2063-A serial numbers), each above 250 g.
ALICE_UA=1596A4JPN5R7B10
BOB_UA=1596A4JPN5R7B20
DANA_UA=1596A4JPN5R7B30
ERIN_UA=1596A4JPN5R7B40
registry() { "$UTMCTL" registry --server "127.0.0.1:$PORT" "$@"; }
CAA=$("$UTMCTL" token --role regulator --sub foca-registry --data-dir "$WORK/data")

step "O. Registration: the regulator registers the drones that fly next; an unregistered 900 g drone cannot take off"
expect 0 registry --token "$CAA" register "$ALICE_UA" --mass-g 900 --operator alice \
  --operator-registration CHE87astrdge12k8 --make-model "Survey X8" --ua-type helicopter-or-multirotor
for who in bob:"$BOB_UA" dana:"$DANA_UA" erin:"$ERIN_UA"; do
  registry --token "$CAA" register "${who#*:}" --mass-g 1200 --operator "${who%%:*}" \
    --operator-registration "CHE-${who%%:*}" >/dev/null
done
expect 0 registry --token "$ALICE" list
flying_now "$WORK/unregistered.json" 47.2000 8.3000 200
expect 0 intent --token "$ALICE" file "$WORK/unregistered.json" --request-id alice-stray
STRAY=$(intent --token "$ALICE" --json file "$WORK/unregistered.json" --request-id alice-stray |
  grep -o '"intent":{"id":"[^"]*"' | head -n 1 | cut -d'"' -f6)
expect 6 intent --token "$ALICE" activate "$STRAY" --version 1 --aircraft 1596A4JPN5R7B99 --mass-g 900

step "P. Two drones converge head-on over Zurich: both pilots, and a supervisor watching, are alerted before separation is lost"
echo "Alice's survey flight; Bob's medical flight (priority 5) outranks it, so both may fly there."
flying_now "$WORK/zurich.json" 47.3800 8.5400 400
file_and_activate ALICE "$WORK/zurich.json" alice-zurich 0 "$ALICE_UA"
ALICE_ZRH=$FLOWN
file_and_activate BOB "$WORK/zurich.json" bob-zurich 5 "$BOB_UA"
BOB_ZRH=$FLOWN
fly_bg supervisor --token "$SUPERVISOR" watch --circle 47.38,8.54,2000 --count 1 --timeout-s 30
# 400 m apart at 12 m/s each: 50 m separation is lost after 14.6 s.
fly_bg alice-1 --token "$ALICE" fly --aircraft "$ALICE_UA" --intent "$ALICE_ZRH" \
  --from 47.3800,8.537359,550 --velocity 0,12,0 --until-alert separation_lost
fly_bg bob-7 --token "$BOB" fly --aircraft "$BOB_UA" --intent "$BOB_ZRH" \
  --from 47.3800,8.542641,550 --velocity 0,-12,0 --until-alert separation_lost
landed alice-1
landed bob-7
landed supervisor
warned_before_loss alice-1
warned_before_loss bob-7
requires " CONFLICT_PREDICTED $ALICE_UA $BOB_UA: " supervisor

step "Q. Dana's drone strays out of its 150 m intent: NONCONFORMANCE, and the intent becomes NONCONFORMING"
flying_now "$WORK/dana-now.json" 46.9200 9.6000 150
file_and_activate DANA "$WORK/dana-now.json" dana-now 0 "$DANA_UA"
DANA_NOW=$FLOWN
fly_bg dana-3 --token "$DANA" fly --aircraft "$DANA_UA" --intent "$DANA_NOW" \
  --from 46.9200,9.6000,550 --velocity 0,15,0 --until-alert nonconformance
landed dana-3
requires "RAISED NONCONFORMANCE $DANA_UA: " dana-3
expect 0 intent --token "$DANA" get "$DANA_NOW"

step "R. Erin has no grant: her flight just north of the TFR is accepted, but her drone flies into the TFR: GEOFENCE_ENTRY"
# Her 250 m circle is centred 3.3 km north of the fire, 50 m clear of the TFR.
flying_now "$WORK/erin-now.json" 46.879685 9.5300 250
file_and_activate ERIN "$WORK/erin-now.json" erin-now 0 "$ERIN_UA"
ERIN_NOW=$FLOWN
# From 3.08 km north, south at 15 m/s: she leaves her intent after about
# 2 s and meets the TFR (with her 3 m accuracy) after about 5 s.
fly_bg erin-2 --token "$ERIN" fly --aircraft "$ERIN_UA" --intent "$ERIN_NOW" \
  --from 46.877706,9.5300,550 --velocity -15,0,0 --until-alert geofence_entry
landed erin-2
requires "RAISED GEOFENCE_ENTRY $ERIN_UA: $ERIN_UA is inside constraint $TFR\$" erin-2

# Remote ID over Zurich: a provider's flight (network Remote ID, ASTM F3411
# states), seen by the public without identities; the police reach its
# operator with a case reference, and the audit log has it.
PUBLIC=$("$UTMCTL" token --role display --sub public-1 --data-dir "$WORK/data")
USS=$("$UTMCTL" token --role operator --sub uss-zurich --data-dir "$WORK/data")
rid() { "$UTMCTL" rid --server "127.0.0.1:$PORT" "$@"; }
{
  echo '{"flights": [{"reference_time": "2022-01-01T00:00:00Z",'
  echo ' "flight_details": {"id": "f-1", "serial_number": "1AKGAAN8G70R7JS", "operator_id": "CHE-RP-f39mqfitkh9e5",'
  echo '   "operator_location": {"lat": 47.3770, "lng": 8.5400}, "operation_description": "Roof inspection"},'
  echo ' "aircraft_type": "Helicopter", "states": ['
  for i in $(seq 1 20); do
    lat=$(awk -v i="$i" 'BEGIN { printf "%.6f", 47.3760 + i * 4 / 111200 }')
    [[ $i == 1 ]] || echo ','
    echo "{\"timestamp\": \"2022-01-01T00:00:$(printf %02d "$i")Z\", \"timestamp_accuracy\": 0.1,"
    echo " \"operational_status\": \"Airborne\", \"track\": 0, \"speed\": 4, \"speed_accuracy\": \"SA1mps\","
    echo " \"vertical_speed\": 0, \"position\": {\"lat\": $lat, \"lng\": 8.5417, \"alt\": 520,"
    echo " \"accuracy_h\": \"HA3m\", \"accuracy_v\": \"VA3m\", \"height\": {\"distance\": 60, \"reference\": \"TakeoffLocation\"}}}"
  done
  echo ']}]}'
} >"$WORK/rid-flight.json"

step "S. Remote ID: a provider publishes its flight over Zurich; the public display shows where it is, never who flies it"
expect 0 rid --token "$USS" publish --all-at-once "$WORK/rid-flight.json"
expect 0 rid --token "$PUBLIC" view --around 47.3769,8.5417,1400

step "T. A view wider than 2 km shows clusters only: no aircraft can be placed closer than 300 m"
expect 0 rid --token "$PUBLIC" view --around 47.3769,8.5417,4000

step "U. The public asks who flies it: refused"
expect 4 rid --token "$PUBLIC" details 1AKGAAN8G70R7JS --case none

step "V. The police, without a case reference: refused; with a warrant's: the operator"
expect 2 rid --token "$POLICE" details 1AKGAAN8G70R7JS --case ""
expect 0 rid --token "$POLICE" details 1AKGAAN8G70R7JS --case ZH-2026-WARRANT-0142

step "W. The disclosure is in the audit log, written before the answer left; an auditor checks the hash chain"
AUDITOR=$("$UTMCTL" token --role auditor --sub auditor-1 --data-dir "$WORK/data")
expect 0 "$UTMCTL" audit --server "127.0.0.1:$PORT" --token "$AUDITOR" list --after 1
expect 0 "$UTMCTL" audit --server "127.0.0.1:$PORT" --token "$AUDITOR" verify

step "X. The regulator revokes Alice's drone registration while it flies: her pilot and the supervisor are alerted, and it cannot take off again"
fly_bg supervisor-2 --token "$SUPERVISOR" watch --circle 47.38,8.54,2000 --kinds registration_revoked \
  --count 1 --timeout-s 30
fly_bg alice-2 --token "$ALICE" fly --aircraft "$ALICE_UA" --intent "$ALICE_ZRH" \
  --from 47.3800,8.5400,550 --velocity 0,3,0 --duration-s 20 --until-alert registration_revoked
sleep 2  # airborne
echo "Alice's own view, live: her drone, its intent's state, its open alerts; nobody else's aircraft."
expect 0 "$UTMCTL" fleet --server "127.0.0.1:$PORT" --token "$ALICE" watch --count 1 --timeout-s 10
expect 0 registry --token "$CAA" revoke "$ALICE_UA" --reason "failed its annual inspection"
landed alice-2
ALICE_LANDED=$SECONDS
landed supervisor-2
requires "RAISED REGISTRATION_REVOKED $ALICE_UA: " alice-2
flying_now "$WORK/alice-again.json" 47.2100 8.3000 200
expect 0 intent --token "$ALICE" file "$WORK/alice-again.json" --request-id alice-again
AGAIN=$(intent --token "$ALICE" --json file "$WORK/alice-again.json" --request-id alice-again |
  grep -o '"intent":{"id":"[^"]*"' | head -n 1 | cut -d'"' -f6)
expect 6 intent --token "$ALICE" activate "$AGAIN" --version 1 --aircraft "$ALICE_UA"

step "Y. Who owns that drone? Bob may not know; the police, with a case reference, may (audited)"
expect 4 registry --token "$BOB" get "$ALICE_UA"
expect 0 registry --token "$POLICE" get "$ALICE_UA" --case ZH-2026-WARRANT-0143
expect 0 "$UTMCTL" audit --server "127.0.0.1:$PORT" --token "$AUDITOR" list --after 2

operator() { "$UTMCTL" operator --server "127.0.0.1:$PORT" "$@"; }

flight() { "$UTMCTL" flight --server "127.0.0.1:$PORT" "$@"; }

step "Z1. Flight logs: Alice lists her flights and exports the one over Zurich as GeoJSON and CSV; Bob may not read it"
expect 0 flight --token "$ALICE" list
FLIGHT_ID=$(flight --token "$ALICE" list | awk -v i="$ALICE_ZRH" '$0 ~ i {print $1; exit}')
expect 0 flight --token "$ALICE" log "$FLIGHT_ID" --format geojson --out "$WORK/alice-flight.geojson"
expect 0 flight --token "$ALICE" log "$FLIGHT_ID" --format csv --out "$WORK/alice-flight.csv"
head -n 3 "$WORK/alice-flight.csv"
expect 5 flight --token "$BOB" log "$FLIGHT_ID"

step "Z2. Local Data Mode: Frank flies, deconflicted as anyone, and nothing about him is written anywhere"
FRANK=$("$UTMCTL" token --role operator --sub frank --data-dir "$WORK/data")
expect 0 operator --token "$FRANK" settings --local-data-mode on
flying_now "$WORK/frank.json" 47.1000 8.3000 200
expect 0 intent --token "$FRANK" file "$WORK/frank.json" --request-id frank-1
FRANK_ID=$(intent --token "$FRANK" --json file "$WORK/frank.json" --request-id frank-1 |
  grep -o '"intent":{"id":"[^"]*"' | head -n 1 | cut -d'"' -f6)
expect 0 intent --token "$FRANK" activate "$FRANK_ID" --version 1 --aircraft frank-mini --mass-g 200
fly_bg frank-1 --token "$FRANK" fly --aircraft frank-mini --intent "$FRANK_ID" \
  --from 47.1000,8.3000,550 --velocity 0,5,0 --duration-s 4
landed frank-1
expect 0 flight --token "$FRANK" list
echo "No file utmd wrote holds Frank's id, his intent's or his aircraft's:"
expect 1 grep -rlq -e frank -e "$FRANK_ID" "$WORK/data"

step "Z3. Your data: Alice exports everything utmd holds about her, as one archive checked against its manifest"
expect 0 operator --token "$ALICE" export --out "$WORK/alice-export.tar.gz"
tar -tzvf "$WORK/alice-export.tar.gz"
tar -xzOf "$WORK/alice-export.tar.gz" privileged-reads.json

step "Z4. Alice takes her data and leaves: erasure is refused while her flight is in progress; once it has ended, everything is erased, and what the law keeps is named"
expect 6 operator --token "$ALICE" erase --confirm alice
ALICE_V=$(intent --token "$ALICE" get "$ALICE_ZRH" | sed -n 's/.*, version \([0-9]*\).*/\1/p' | head -n 1)
expect 0 intent --token "$ALICE" end "$ALICE_ZRH" --version "$ALICE_V"
# An aircraft that reported in the last minute is still flying.
wait_s=$((ALICE_LANDED + 62 - SECONDS))
if ((wait_s > 0)); then echo "(Alice's drone last reported less than a minute ago: waiting ${wait_s} s)"; sleep "$wait_s"; fi
expect 0 operator --token "$ALICE" erase --confirm alice
expect 5 intent --token "$ALICE" get "$ALICE_ZRH"
echo "The police's reads of her data stay in the audit log under a pseudonym; the chain is unchanged:"
expect 0 "$UTMCTL" audit --server "127.0.0.1:$PORT" --token "$AUDITOR" list
expect 0 "$UTMCTL" audit --server "127.0.0.1:$PORT" --token "$AUDITOR" verify

step "1. Validate volume files: the bad one is refused with the exact field and reason"
expect 0 "$UTMCTL" geo check "$EX/area-45km.json" "$EX/intent-tip-inside.json"
expect 2 "$UTMCTL" geo check "$EX/intent-bow-tie.json"

step "2. A tip 1.1 cm across the middle of a 45 km geodesic edge conflicts"
expect 1 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

step "3. The same tip 1.1 cm short of the edge does not (the chord lies 16 cm away)"
expect 0 "$UTMCTL" geo intersect "$EX/area-45km.json" "$EX/intent-tip-outside.json"

step "4. Machine-readable output for scripts"
expect 1 "$UTMCTL" geo --json intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"

if [[ $KEEP_UP == 1 ]]; then
  printf '\ndemo: --keep-up: utmd and the map stay up at %s#46.85,9.53,12 (token above); Ctrl-C to stop\n' "$MAP_URL"
  KEEPING=1
  trap 'KEEPING=0' INT
  while [[ $KEEPING == 1 ]] && kill -0 "$UTMD_PID" 2>/dev/null; do sleep 1; done
  trap - INT
fi

step "5. Stop utmd: SIGTERM drains and exits 0"
kill -TERM "$UTMD_PID"
wait "$UTMD_PID"
UTMD_PID=""
cat "$WORK/utmd.log"

printf '\ndemo: all steps behaved as expected\n'
