#!/usr/bin/env bash
# End-to-end: a real utmd and utmctl. Police read an intent's owner with a
# case reference, the read lands in the hash-chained audit log, an auditor
# reads and verifies the log through utmd (`utmctl audit list|verify`), and
# one byte changed in data-dir/audit.log (utmd stopped) makes
# `utmctl audit verify --file` fail naming the entry, and utmd refuse to
# start on it.
# Usage: utmctl_audit_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/out" "$work/data"
server=(--server "127.0.0.1:$utmd_port")
alice=$(utmd_token operator alice) || exit 1
police=$(utmd_token police officer-7) || exit 1
auditor=$(utmd_token auditor auditor-1) || exit 1
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/intent.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": 8.5417}, "radiusM": 200},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
out=$("$UTMCTL" intent "${server[@]}" --token "$alice" file "$work/intent.json" 2>&1) ||
  fail "file: $out"
id=$(sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$out")
[[ -n "$id" ]] || fail "no id: $out"

# Without a case the police see no owner and nothing is recorded.
out=$("$UTMCTL" intent "${server[@]}" --token "$police" get "$id" 2>&1) ||
  fail "police get: $out"
[[ "$out" == *"another operator's"* && "$out" != *alice* ]] ||
  fail "police without a case saw: $out"
[[ ! -s "$work/data/audit.log" ]] || fail "recorded without a case: $(cat "$work/data/audit.log")"
# An operator cannot give a case reference.
out=$("$UTMCTL" intent "${server[@]}" --token "$alice" get "$id" --case W-1 2>&1); code=$?
[[ $code == 4 && "$out" == *"PERMISSION_DENIED: case_reference"* ]] ||
  fail "operator with a case: $code $out"
# With one, they do, and each read is one entry.
for case_ref in "WARRANT 2026/17" "SUBPOENA-9"; do
  out=$("$UTMCTL" intent "${server[@]}" --token "$police" get "$id" --case "$case_ref" 2>&1) ||
    fail "police get --case: $out"
  [[ "$out" == *"owner: alice"* ]] || fail "police with a case did not see the owner: $out"
done
out=$("$UTMCTL" intent "${server[@]}" --token "$police" query --bbox 47.37,8.54,47.38,8.55 \
  --case SUBPOENA-9 2>&1) || fail "police query --case: $out"
[[ "$out" == *"owner alice"* ]] || fail "query with a case: $out"
[[ $(wc -l <"$work/data/audit.log") == 3 ]] || fail "audit.log: $(cat "$work/data/audit.log")"
echo "ok: police see owners only with --case; each disclosure is one audit entry"

# The auditor reads and verifies the log through utmd; others may not.
out=$("$UTMCTL" audit "${server[@]}" --token "$auditor" list 2>&1) || fail "audit list: $out"
[[ $(wc -l <<<"$out") == 3 && "$out" == *"1 "*" intent-owner subject=officer-7 case=WARRANT 2026/17 target=$id about=alice disclosed=alice"* ]] ||
  fail "audit list: $out"
out=$("$UTMCTL" audit "${server[@]}" --token "$auditor" list --after 2 --json 2>&1) ||
  fail "audit list --json: $out"
[[ $(wc -l <<<"$out") == 1 && "$out" == *'"sequence":"3"'*'"case_reference":"SUBPOENA-9"'* ]] ||
  fail "audit list --after 2 --json: $out"
out=$("$UTMCTL" audit "${server[@]}" --token "$police" list 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "police read the audit log: $code $out"
out=$("$UTMCTL" audit "${server[@]}" --token "$auditor" verify 2>&1) || fail "audit verify: $out"
[[ "$out" =~ ^3\ entries,\ chain\ intact,\ head\ 3\ [0-9a-f]{64}$ ]] || fail "audit verify: $out"
head_seen=${out#*head }
out=$("$UTMCTL" audit "${server[@]}" --token "$auditor" verify --json 2>&1) ||
  fail "audit verify --json: $out"
[[ "$out" == '{"entries":3,"head":{"hash":"'*'","sequence":3},"intact":true}' ]] ||
  fail "audit verify --json: $out"
echo "ok: the auditor lists and verifies the log through utmd; police may not read it"

utmd_stop
out=$("$UTMCTL" audit verify --file "$work/data/audit.log" --head "$head_seen" 2>&1) ||
  fail "verify --file: $out"
[[ "$out" == "3 entries, chain intact, head $head_seen" ]] || fail "verify --file: $out"

# One byte of entry 2 changed: the offline verifier names entry 2, and
# utmd will not start on the log.
cp "$work/data/audit.log" "$work/audit.log.good"
sed -i '2s/disclosed=alice/disclosed=alicf/' "$work/data/audit.log"
cmp -s "$work/data/audit.log" "$work/audit.log.good" && fail "the edit changed nothing"
out=$("$UTMCTL" audit verify --file "$work/data/audit.log" 2>&1); code=$?
[[ $code == 1 && "$out" == "BROKEN: audit entry 2 (line 2): hash: does not match"* ]] ||
  fail "verify of an edited log: $code $out"
out=$("$UTMCTL" audit verify --file "$work/data/audit.log" --json 2>&1); code=$?
[[ $code == 1 && "$out" == *'"error":"audit entry 2 (line 2)'*'"intact":false'* ]] ||
  fail "verify --json of an edited log: $code $out"
"$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/refused" 2>&1 </dev/null; code=$?
[[ $code != 0 ]] || fail "utmd started on an edited audit log"
grep -q "audit.log: audit entry 2 (line 2): hash: does not match" "$work/refused" ||
  fail "utmd's refusal does not name the entry: $(cat "$work/refused")"
echo "ok: one edited byte is named by audit verify --file, and utmd refuses to start"

# The last entry dropped: the chain alone still verifies, the head written
# down earlier does not.
head -n 2 "$work/audit.log.good" >"$work/data/audit.log"
out=$("$UTMCTL" audit verify --file "$work/data/audit.log" --head "$head_seen" 2>&1); code=$?
[[ $code == 1 && "$out" == *"entries 3..3 are missing from the end"* ]] ||
  fail "verify of a truncated log against its head: $code $out"
echo "ok: a truncated log is caught against the head written down earlier"
