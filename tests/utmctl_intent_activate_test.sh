#!/usr/bin/env bash
# End-to-end: a real utmd and utmctl. `intent activate --volumes` changes and
# activates an intent in one write (or is rejected and changes nothing), and
# utmd's --max-volume-duration bounds a volume's length: by default 30 days
# (a five-day volume is accepted), lower when the flag says so.
# Usage: utmctl_intent_activate_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

# volume_file PATH EAST_DEG_OFFSET START_MIN END_MIN [PRIORITY]: a
# FileIntentRequest JSON with one 100 m circle near Zurich, from START_MIN to
# END_MIN minutes from now.
volume_file() {
  local start end
  start=$(date -u -d "+$3 minutes" +%Y-%m-%dT%H:%M:%SZ)
  end=$(date -u -d "+$4 minutes" +%Y-%m-%dT%H:%M:%SZ)
  cat >"$1" <<EOF
{"priority": ${5:-0}, "volumes": [{"volume": {
  "outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": $(awk "BEGIN { printf \"%.4f\", 8.5417 + $2 }")}, "radiusM": 100},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$start", "timeEnd": "$end"}]}
EOF
}

# run EXPECTED_EXIT ARGS...: runs utmctl intent as $token, keeps its output.
run() {
  local want=$1
  shift
  out=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$token" "$@" 2>&1)
  local code=$?
  [[ $code == "$want" ]] || fail "intent $* exited $code, expected $want: $out"
}

id_of() { sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$1"; }

utmd_start "$work/out" "$work/data"
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1

# A five-day volume fits the default; 31 days does not.
volume_file "$work/five-days.json" 0.2 10 $((10 + 5 * 24 * 60))
volume_file "$work/month.json" 0.25 10 $((10 + 31 * 24 * 60))
token=$alice
run 0 file "$work/five-days.json"
[[ "$out" == "ACCEPTED intent "* ]] || fail "five days: $out"
run 2 file "$work/month.json"
[[ "$out" == *"INVALID_ARGUMENT: volumes[0]: lasts 744h; at most 720h is allowed"* ]] ||
  fail "31 days: $out"
echo "ok: a five-day volume is accepted by default, 31 days refused"

# activate --volumes: one write, one new version, the new volumes.
volume_file "$work/here.json" 0 10 40
volume_file "$work/there.json" 0.05 10 40
run 0 file "$work/here.json"
mine=$(id_of "$out")
[[ -n "$mine" ]] || fail "no id: $out"
run 0 activate "$mine" --version 1 --volumes "$work/there.json"
[[ "$out" == "ACCEPTED intent $mine: ACTIVATED, priority 0, version 2, 1 volume(s)"* ]] ||
  fail "activate --volumes: $out"
run 0 --json get "$mine"
[[ "$out" == *'"version":"2"'* && "$out" == *'"lng_deg":8.5917'* ]] ||
  fail "not the new volumes: $out"
# The old place is free, the new one taken.
token=$bob
run 0 file "$work/here.json"
run 1 file "$work/there.json"
echo "ok: activate --volumes changes and activates in one version"

# Into a higher-priority intent: rejected, the intent stays ACCEPTED at
# version 1 with its volumes; --priority alone may fix that.
volume_file "$work/bob-high.json" 0.1 10 40 50
volume_file "$work/alice-elsewhere.json" 0.15 10 40
run 0 file "$work/bob-high.json"
token=$alice
run 0 file "$work/alice-elsewhere.json"
other=$(id_of "$out")
run 1 activate "$other" --version 1 --volumes "$work/bob-high.json"
[[ "$out" == "REJECTED: conflicts with"*"priority 50, ACCEPTED"* ]] ||
  fail "rejected activation: $out"
run 0 get "$other"
[[ "$out" == "intent $other: ACCEPTED, priority 0, version 1, 1 volume(s)"* ]] ||
  fail "changed after rejection: $out"
run 0 activate "$other" --version 1 --volumes "$work/bob-high.json" --priority 60
[[ "$out" == "ACCEPTED intent $other: ACTIVATED, priority 60, version 2"* ]] ||
  fail "activate with priority: $out"
[[ "$out" == *"advisory: intent"*"priority 50, ACCEPTED"* ]] || fail "no advisory: $out"
echo "ok: a rejected activation changes nothing; --priority goes with it"
utmd_stop

# --max-volume-duration: a lower limit refuses the five-day volume; a
# malformed value stops utmd at start-up.
utmd_start "$work/out2" "$work/data2" --max-volume-duration 2h
token=$(utmd_token operator alice) || exit 1
run 2 file "$work/five-days.json"
[[ "$out" == *"volumes[0]: lasts 120h; at most 2h is allowed"* ]] || fail "2h: $out"
volume_file "$work/ninety-min.json" 0.3 10 100
run 0 file "$work/ninety-min.json"
utmd_stop
for bad in 0 400d forever; do
  if "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data3" \
    --max-volume-duration "$bad" >"$work/out3" 2>&1 </dev/null; then
    fail "--max-volume-duration $bad accepted"
  fi
  grep -q -- "--max-volume-duration" "$work/out3" || fail "no message for $bad: $(cat "$work/out3")"
done
echo "ok: --max-volume-duration lowers the limit; bad values stop utmd"
