#!/usr/bin/env bash
# End-to-end: `utmctl operator settings` against a real utmd on loopback. An
# operator sees the defaults, switches Local Data Mode on and shortens its
# flight-log retention, sees them, and finds them again after a restart;
# another operator's are untouched; a malformed or out-of-range retention is
# refused naming the field; a display token may not read them. The setting
# is kept under the operator's pseudonym: no file of the data directory
# names the operator. Every wait is bounded.
# Usage: utmctl_operator_settings_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data"
settings() { "$UTMCTL" operator --server "127.0.0.1:$utmd_port" settings "$@"; }
OP=opSetQ4wZ9xR
alice=$(utmd_token operator "$OP") || exit 1
bob=$(utmd_token operator bob) || exit 1
public=$(utmd_token display public-1) || exit 1

out=$(settings --token "$alice" 2>&1) || fail "show: $out"
[[ "$out" == "local data mode off, flight logs kept 30 days (2592000 s)" ]] ||
  fail "defaults: $out"
out=$(settings --token "$alice" --local-data-mode on --flight-log-retention 7d 2>&1) ||
  fail "set: $out"
[[ "$out" == "local data mode on, flight logs kept 7 days (604800 s)" ]] || fail "set: $out"
out=$(settings --token "$alice" --flight-log-retention 36h --json 2>&1) || fail "json: $out"
[[ "$out" == *'"local_data_mode":true'* && "$out" == *'"flight_log_retention":"129600s"'* ]] ||
  fail "json: $out"
out=$(settings --token "$bob" 2>&1) || fail "bob: $out"
[[ "$out" == "local data mode off, "* ]] || fail "bob's: $out"

out=$(settings --token "$alice" --flight-log-retention 0s 2>&1) && fail "0s accepted: $out"
[[ "$out" == *"INVALID_ARGUMENT"*"flight_log_retention: 0 s is not in (0, 5 years]"* ]] ||
  fail "0s: $out"
out=$(settings --token "$alice" --flight-log-retention 1900d 2>&1) && fail "1900d accepted: $out"
[[ "$out" == *"flight_log_retention: 164160000 s is not in"* ]] || fail "1900d: $out"
out=$(settings --token "$alice" --flight-log-retention soon 2>&1) && fail "soon accepted: $out"
[[ "$out" == *"--flight-log-retention: expected a duration"* ]] || fail "soon: $out"
out=$(settings --token "$public" 2>&1) && fail "display read: $out"
[[ "$out" == *"PERMISSION_DENIED"* ]] || fail "display: $out"

utmd_stop
utmd_start "$work/utmd.out" "$work/data"
out=$(settings --token "$alice" 2>&1) || fail "after restart: $out"
[[ "$out" == "local data mode on, flight logs kept 36h (129600 s)" ]] ||
  fail "after restart: $out"
utmd_stop
[[ "$(stat -c %a "$work/data/pseudonym-key")" == 600 ]] || fail "pseudonym-key mode"
if grep -rqF "$OP" "$work/data"; then
  fail "the operator's id is in: $(grep -rlF "$OP" "$work/data")"
fi
echo "PASS"
