# shellcheck shell=bash
# Shared helpers of the end-to-end tests that run a real utmd on loopback:
# a scratch directory removed on exit, utmd started on a free port and
# stopped by its pid, dev tokens, bounded waits, and failing with a message.
#
# Typical usage (UTMD and UTMCTL set first):
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"
#   utmd_start "$work/out" "$work/data"
#   alice=$(utmd_token operator alice) || exit 1
#   "$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$alice" ...
#   some_client ... & background+=("$!")   # killed on exit if still running
#   utmd_stop
#
# Sourcing sets `work` (a new temporary directory), `utmd_pid`, `utmd_port`,
# `utmd_out`, `utmd_data` and `background`, and traps EXIT to kill every pid
# in `utmd_pid` and `background` and remove $work.

work=$(mktemp -d)
utmd_pid=""
utmd_port=""
utmd_out=""
utmd_data=""
background=()

utmd_test_cleanup() {
  local p
  for p in "${background[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [[ -n "$utmd_pid" ]] && kill -KILL "$utmd_pid" 2>/dev/null
  rm -rf "$work"
}
trap utmd_test_cleanup EXIT

# fail MESSAGE...: prints FAIL and the message, exits 1 (only a subshell
# when called inside $(...)).
fail() { echo "FAIL: $*" >&2; exit 1; }

# utmd_start OUT DATA_DIR [UTMD FLAGS...]: starts $UTMD on a free loopback
# port over DATA_DIR (with --shutdown-grace 2 unless FLAGS give one), its
# output in OUT, and waits up to 10 s for the port it reports. Sets
# utmd_pid, utmd_port, utmd_out and utmd_data; fails if utmd exits or says
# nothing. The binary is started directly, so that utmd_pid is
# utmd's own pid (not a subshell's).
utmd_start() {
  utmd_out=$1
  utmd_data=$2
  shift 2
  # A short grace unless the caller gives one.
  local grace=(--shutdown-grace 2)
  [[ " $* " == *" --shutdown-grace "* ]] && grace=()
  "$UTMD" --listen 127.0.0.1:0 --data-dir "$utmd_data" "${grace[@]}" "$@" \
    >"$utmd_out" 2>&1 </dev/null &
  utmd_pid=$!
  utmd_port=""
  for _ in $(seq 1 200); do  # up to 10 s
    # A text log ("utmd: listening on ...") or a JSON one
    # ({..."msg":"listening on ...").
    utmd_port=$(sed -n -E 's/^(utmd: |\{.*"msg":")listening on 127\.0\.0\.1:([0-9]+).*/\2/p' "$utmd_out")
    [[ -n "$utmd_port" ]] && break
    kill -0 "$utmd_pid" 2>/dev/null || fail "utmd exited early: $(cat "$utmd_out")"
    sleep 0.05
  done
  [[ -n "$utmd_port" ]] || fail "utmd did not report its port: $(cat "$utmd_out")"
}

# utmd_stop: SIGTERM to utmd, waits for it, fails unless it exited 0.
# utmd_port stays set (to probe the stopped server).
utmd_stop() {
  kill -TERM "$utmd_pid"
  wait "$utmd_pid"
  local code=$?
  utmd_pid=""
  [[ $code == 0 ]] || fail "utmd exited $code after SIGTERM: $(cat "$utmd_out")"
}

# utmd_token ROLE SUBJECT: prints a dev token signed with the key in the
# data directory of the last utmd_start (needs UTMCTL).
utmd_token() {
  "$UTMCTL" token --role "$1" --sub "$2" --data-dir "$utmd_data" ||
    fail "token $1 $2"
}

# wait_for_line FILE REGEX: waits up to 10 s for a line of FILE matching the
# extended regex.
wait_for_line() {
  for _ in $(seq 1 200); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "no line matching '$2' in $1: $(cat "$1")"
}

# circle_intent FILE LAT LNG: writes a volume file of one 400 m circle,
# 100-300 m above WGS84, from a minute ago for 30 minutes.
circle_intent() {
  local t0 t1
  t0=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
  t1=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 400},
  "altitudeLower": {"valueM": 100, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 300, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
}

# filed_id TOKEN FILE [FLAGS...]: files FILE with $UTMCTL against the utmd
# of the last utmd_start and prints the accepted intent's id (fails
# otherwise).
filed_id() {
  local token=$1 file=$2 out
  shift 2
  out=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$token" \
    file "$file" "$@" 2>&1) || fail "file $file: $out"
  sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$out"
}
