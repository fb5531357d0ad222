#!/usr/bin/env bash
# End-to-end: utmd's start-up and stop. A port in use fails a start at once,
# before the data directory is touched (exit 1, a message naming the
# address); SIGTERM ends an open WatchConstraints stream, a WatchAlerts
# stream and a StreamPositions stream at once with UNAVAILABLE and where to
# resume, so utmd exits 0 long before its (large) shutdown grace; the watch
# resumes on the restarted server from that sequence without losing or
# repeating an update. Every wait is bounded. Usage: utmd_shutdown_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

# wait_exit PID SECONDS: waits up to SECONDS for PID (a child of this shell)
# to exit and sets `code` to its exit code; fails if it is still running.
wait_exit() {
  local i
  for ((i = 0; i < $2 * 20; ++i)); do
    if ! kill -0 "$1" 2>/dev/null ||
       [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; then
      wait "$1"
      code=$?
      return 0
    fi
    sleep 0.05
  done
  fail "pid $1 still running after $2 s"
}

utmd_start "$work/out" "$work/data" --shutdown-grace 120
grep -q "^utmd: recovered 0 live intents and 0 constraints from $work/data/store in [0-9]* ms (.*, a new store)$" \
  "$work/out" || fail "no recovery line with its unit: $(cat "$work/out")"
grep -q "^utmd: listening on 127\.0\.0\.1:$utmd_port (data in $work/data, auth dev, plaintext)$" \
  "$work/out" || fail "no listening line: $(cat "$work/out")"
echo "ok: start-up lines name what was recovered, from where, in ms, and the address"

# --- a port in use fails at once, before the data directory is touched -----
out=$(timeout 20 "$UTMD" --listen "127.0.0.1:$utmd_port" --data-dir "$work/data2" 2>&1 </dev/null)
code=$?
[[ $code == 1 && "$out" == "utmd: cannot listen on 127.0.0.1:$utmd_port: Address already in use"* ]] ||
  fail "a second utmd on a busy port: exit $code: $out"
[[ ! -e "$work/data2" ]] || fail "a start refused for its port created its data directory"
echo "ok: a busy port exits 1 at once with '$out'"

# --- SIGTERM with open streams ---------------------------------------------
ctl() { "$UTMCTL" constraint --server "127.0.0.1:$utmd_port" "$@"; }
reg=$(utmd_token regulator CH-FOCA) || exit 1
alice=$(utmd_token operator alice) || exit 1
monitor=$(utmd_token monitor mon) || exit 1
end=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
box=46.0,7.0,46.3,7.3
# constraint_file FILE LAT LNG
constraint_file() {
  cat >"$1" <<JSON
{"type": "CONSTRAINT_TYPE_ADVISORY", "reason": "test", "authority": {"name": "test"},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 300},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 1500, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$end"}]}
JSON
}
published_id() { sed -n 's/^PUBLISHED constraint \([^:]*\):.*/\1/p' <<<"$1"; }

# An activated flight streaming positions, from a minute ago.
t0=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/flight.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 46.15, "lngDeg": 7.15}, "radiusM": 500},
  "altitudeLower": {"valueM": 100, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 200, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
out=$(intent --token "$alice" file "$work/flight.json" 2>&1) || fail "file: $out"
flight=$(sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$out")
out=$(intent --token "$alice" activate "$flight" --version 1 2>&1) || fail "activate: $out"
"$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" --token "$alice" fly \
  --aircraft d1 --intent "$flight" --from 46.15,7.15,150 --velocity 0,1,0 --duration-s 100 \
  >"$work/fly.out" 2>"$work/fly.err" </dev/null &
fly=$!
background+=("$fly")
"$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" --token "$monitor" watch \
  --circle 46.1,7.1,5000 --timeout-s 100 >"$work/alerts.out" 2>"$work/alerts.err" </dev/null &
alerts=$!
background+=("$alerts")
"$UTMCTL" constraint --server "127.0.0.1:$utmd_port" --token "$alice" watch \
  --bbox "$box" --timeout-s 100 >"$work/w1.out" 2>"$work/w1.err" </dev/null &
w1=$!
background+=("$w1")
wait_for_line "$work/w1.out" '^seq [0-9]+ snapshot end \(0\)$'
constraint_file "$work/c1.json" 46.1 7.1
out=$(ctl --token "$reg" publish "$work/c1.json" 2>&1) || fail "publish c1: $out"
c1=$(published_id "$out")
wait_for_line "$work/w1.out" "^seq [0-9]+ upsert $c1 "
s1=$(sed -n "s/^seq \([0-9]*\) upsert $c1 .*/\1/p" "$work/w1.out")

kill -TERM "$utmd_pid"
# The grace is 120 s; the streams must not hold the stop for it.
wait_exit "$utmd_pid" 60
utmd_pid=""
[[ $code == 0 ]] || fail "utmd exited $code after SIGTERM: $(cat "$work/out")"
grep -qE "^utmd: stopped after [0-9]+\.[0-9] s$" "$work/out" ||
  fail "no 'stopped after' line: $(cat "$work/out")"
wait_exit "$w1" 20
[[ $code == 69 ]] || fail "watch exit $code after SIGTERM: $(cat "$work/w1.err")"
# utmctl names the call's request id after the server's text.
grep -qxE "UNAVAILABLE: server shutting down; resume from sequence $s1 \(request id [0-9a-f]{32}\)" "$work/w1.err" ||
  fail "the watch's final status: $(cat "$work/w1.err")"
grep -qx "last sequence $s1" "$work/w1.err" ||
  fail "utmctl's resume point differs from the server's: $(cat "$work/w1.err")"
wait_exit "$alerts" 20
[[ $code == 69 ]] && grep -q "^UNAVAILABLE: server shutting down; reconnect" "$work/alerts.err" ||
  fail "alert watch after SIGTERM: exit $code: $(cat "$work/alerts.err")"
wait_exit "$fly" 20
[[ $code == 69 ]] && grep -q "^UNAVAILABLE: server shutting down; reconnect and send positions again" "$work/fly.err" ||
  fail "position stream after SIGTERM: exit $code: $(cat "$work/fly.err")"
echo "ok: SIGTERM ends the watch (UNAVAILABLE, resume from sequence $s1), the alert watch and the position stream; utmd exits 0 well within its 120 s grace"

# --- resume on the restarted server -----------------------------------------
utmd_start "$work/out2" "$work/data"
grep -q "^utmd: recovered 1 live intents and 1 constraints from $work/data/store in .*, closed cleanly)$" \
  "$work/out2" || fail "recovery line after restart: $(cat "$work/out2")"
constraint_file "$work/c2.json" 46.2 7.2
out=$(ctl --token "$reg" publish "$work/c2.json" 2>&1) || fail "publish c2: $out"
c2=$(published_id "$out")
out=$(ctl --token "$reg" withdraw "$c1" --version 1 2>&1) || fail "withdraw c1: $out"
ctl --token "$alice" watch --bbox "$box" --since "$s1" --count 2 --timeout-s 20 \
  >"$work/w2.out" 2>"$work/w2.err" </dev/null
code=$?
grep -v '^heartbeat seq ' "$work/w2.out" >"$work/w2.events"
mapfile -t lines <"$work/w2.events"
[[ $code == 0 && ${#lines[@]} == 2 &&
   "${lines[0]}" =~ ^seq\ ([0-9]+)\ upsert\ $c2\  &&
   "${lines[1]}" =~ ^seq\ ([0-9]+)\ removed\ $c1\ WITHDRAWN$ ]] ||
  fail "resumed watch ($code): $(cat "$work/w2.out" "$work/w2.err")"
echo "ok: resuming from sequence $s1 after the restart gives exactly the later updates"
utmd_stop
