#!/usr/bin/env bash
# End-to-end: an operator's data, exported and erased, against a real utmd
# on loopback. Alice files intents, the regulator registers her aircraft,
# the police read her intent's owner (audited). `utmctl operator export`
# writes a tar.gz whose files hold her intents, her registration and the
# privileged read, and nothing of Bob's. `operator erase` refuses another
# id and a flight in progress, then erases; after a restart her intents
# are gone, no file utmd wrote holds them, the audit log holds her id
# nowhere (its entry reads a pseudonym) and its chain still verifies, and
# Bob's data is untouched. Every wait is bounded.
# Usage: utmctl_operator_data_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data"
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
op() { "$UTMCTL" operator --server "127.0.0.1:$utmd_port" "$@"; }
caa=$(utmd_token regulator caa-1) || exit 1
alice=$(utmd_token operator operator-alice-7f3a) || exit 1
bob=$(utmd_token operator operator-bob-51c0) || exit 1
police=$(utmd_token police officer-17) || exit 1
auditor=$(utmd_token auditor aud-1) || exit 1
SERIAL=1596A4JPN5R7B10

circle_intent "$work/a.json" 47.40 8.55
circle_intent "$work/b.json" 47.44 8.55
circle_intent "$work/c.json" 47.48 8.55
planned=$(filed_id "$alice" "$work/a.json") || exit 1
flying=$(filed_id "$alice" "$work/b.json" --aircraft mini-1 --mass-g 200) || exit 1
bobs=$(filed_id "$bob" "$work/c.json") || exit 1
"$UTMCTL" registry --server "127.0.0.1:$utmd_port" --token "$caa" register "$SERIAL" \
  --mass-g 900 --operator operator-alice-7f3a --operator-registration FA3A7CX9KL >/dev/null ||
  fail "register"
out=$(intent --token "$police" get "$planned" --case WARRANT-2026-0042 2>&1) ||
  fail "the police read the owner: $out"

# --- export -----------------------------------------------------------------------
out=$(op --token "$alice" export --out "$work/alice.tar.gz" 2>&1) || fail "export: $out"
[[ "$out" == *"wrote $work/alice.tar.gz: 6 files, checked against manifest.json"* ]] ||
  fail "export: $out"
mkdir "$work/x"
tar -xzf "$work/alice.tar.gz" -C "$work/x" || fail "the archive does not extract"
[[ "$(cd "$work/x" && ls | tr '\n' ' ')" == "README.md intents.json manifest.json privileged-reads.json registrations.json settings.json " ]] ||
  fail "archive files: $(ls "$work/x")"
[[ $(stat -c %a "$work/alice.tar.gz") == 600 ]] || fail "the archive is not mode 0600"
grep -q "\"$planned\"" "$work/x/intents.json" && grep -q "\"$flying\"" "$work/x/intents.json" ||
  fail "intents.json: $(cat "$work/x/intents.json")"
grep -q "\"$SERIAL\"" "$work/x/registrations.json" || fail "registrations.json"
grep -q '"case_reference": "WARRANT-2026-0042"' "$work/x/privileged-reads.json" ||
  fail "privileged-reads.json: $(cat "$work/x/privileged-reads.json")"
grep -rq -e "$bobs" -e operator-bob "$work/x" && fail "Bob's data in Alice's export"
out=$(op --token "$police" export --out "$work/police.tar.gz" 2>&1); code=$?
[[ $code == 4 && ! -e "$work/police.tar.gz" ]] || fail "a police token exports: $code $out"
echo "ok: the export holds Alice's intents, registration and privileged reads, nothing of Bob's"

# --- erase ------------------------------------------------------------------------
out=$(op --token "$alice" erase --confirm operator-bob-51c0 2>&1); code=$?
[[ $code == 2 && "$out" == "INVALID_ARGUMENT: confirm: "* ]] || fail "erase, another id: $code $out"
out=$(intent --token "$alice" activate "$flying" --version 1 2>&1) || fail "activate: $out"
out=$(op --token "$alice" erase --confirm operator-alice-7f3a 2>&1); code=$?
[[ $code == 6 && "$out" == "FAILED_PRECONDITION: intent $flying is ACTIVATED"* ]] ||
  fail "erase while flying: $code $out"
out=$(intent --token "$alice" end "$flying" --version 2 2>&1) || fail "end: $out"
out=$(op --token "$alice" erase --confirm operator-alice-7f3a 2>&1) || fail "erase: $out"
[[ "$out" == *"erased: 2 intents, 1 flight logs, 0 registrations"* &&
   "$out" == *"kept (in force, the registry's record): registrations $SERIAL"* &&
   "$out" == *"pseudonymised: 1 audit entries now say op-"* ]] || fail "erase: $out"
echo "ok: erasure refuses another id and a flight in progress, then erases"

utmd_stop
utmd_start "$work/utmd2.out" "$work/data"
out=$(intent --token "$alice" get "$planned" 2>&1); code=$?
[[ $code == 5 ]] || fail "Alice's intent after erasure and a restart: $code $out"
out=$(intent --token "$bob" get "$bobs" 2>&1) || fail "Bob's intent: $out"
for id in "$planned" "$flying"; do
  hits=$(grep -rl -- "$id" "$work/data" 2>/dev/null | grep -v '/audit.log$')
  [[ -z "$hits" ]] || fail "intent $id is still in $hits"
done
grep -q operator-alice-7f3a "$work/data/audit.log" && fail "Alice's id is in the audit log"
grep -q "about~=" "$work/data/audit.log" || fail "no redacted entry: $(cat "$work/data/audit.log")"
grep -rq -- "$bobs" "$work/data/store" || fail "Bob's intent is gone from the store"
out=$("$UTMCTL" audit verify --file "$work/data/audit.log" 2>&1) || fail "audit verify: $out"
out=$("$UTMCTL" audit --server "127.0.0.1:$utmd_port" --token "$auditor" list 2>&1) ||
  fail "audit list: $out"
[[ "$out" == *"about=op-"*"(redacted)"* ]] || fail "audit list: $out"
grep -q "operator-alice-7f3a" "$work/utmd.out" "$work/utmd2.out" &&
  fail "utmd printed Alice's id: $(grep operator-alice "$work/utmd.out" "$work/utmd2.out")"
echo "ok: after a restart nothing of Alice's intents is in any file, the audit entry reads a pseudonym and verifies"
utmd_stop
