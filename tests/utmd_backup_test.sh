#!/usr/bin/env bash
# End-to-end: backing up a data directory while utmd runs and files
# intents (scripts/utmd-backup.sh), restoring it into a fresh directory, and
# serving the same intents and constraints there, with the same tokens (the
# signing key is part of the backup). Also the offline form: a copy after a
# clean stop. Usage: utmd_backup_test.sh UTMD UTMCTL BACKUP_SCRIPT
set -u
UTMD=$1
UTMCTL=$2
BACKUP=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/out" "$work/data"
alice=$(utmd_token operator alice) || exit 1
writer=$(utmd_token operator writer) || exit 1
reg=$(utmd_token regulator CH-FOCA) || exit 1
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
# intent_file FILE LAT LNG
intent_file() {
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 50},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
}
intent() { "$UTMCTL" intent --server "127.0.0.1:$1" "${@:2}"; }
ctl() { "$UTMCTL" constraint --server "127.0.0.1:$1" "${@:2}"; }

for i in 1 2 3; do
  intent_file "$work/a$i.json" 47.0 "8.0$i"
  out=$(intent "$utmd_port" --token "$alice" file "$work/a$i.json" 2>&1) || fail "alice file $i: $out"
done
cat >"$work/c.json" <<JSON
{"type": "CONSTRAINT_TYPE_ADVISORY", "reason": "backup test", "authority": {"name": "test"},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 46.5, "lngDeg": 7.5}, "radiusM": 300},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 1500, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$end"}]}
JSON
out=$(ctl "$utmd_port" --token "$reg" publish "$work/c.json" 2>&1) || fail "publish: $out"
constraint=$(sed -n 's/^PUBLISHED constraint \([^:]*\):.*/\1/p' <<<"$out")
[[ -n "$constraint" ]] || fail "publish said: $out"
intent "$utmd_port" --token "$alice" --json list >"$work/alice.before" 2>&1 ||
  fail "list before: $(cat "$work/alice.before")"
[[ $(wc -l <"$work/alice.before") == 3 ]] || fail "alice's list: $(cat "$work/alice.before")"
ctl "$utmd_port" --token "$alice" --json get "$constraint" >"$work/c.before" 2>&1 ||
  fail "constraint get: $(cat "$work/c.before")"

# A writer files intents all through the backup; the ids it had filed before
# the backup began must all be in the copy.
(
  for i in $(seq 1 400); do
    intent_file "$work/w.json" 45.0 "$(printf '6.%03d' "$i")"
    "$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$writer" file "$work/w.json" \
      2>/dev/null | sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' >>"$work/written"
    [[ -e "$work/stop-writer" ]] && break
  done
) </dev/null &
background+=("$!")
writer_pid=$!
for _ in $(seq 1 200); do  # up to 10 s for a few filings
  [[ -s "$work/written" && $(wc -l <"$work/written") -ge 5 ]] && break
  sleep 0.05
done
cp "$work/written" "$work/written.before-backup"
out=$("$BACKUP" "$work/data" "$work/backup" 2>&1) || fail "backup: $out"
[[ "$out" == "utmd-backup: copied"* ]] || fail "backup said: $out"
touch "$work/stop-writer"
wait "$writer_pid"
[[ ! -e "$work/backup/store/CLEAN" ]] || fail "the online backup copied the clean-stop marker"
mode=$(stat -c %a "$work/backup")
[[ $mode == 700 ]] || fail "the backup directory has mode $mode"
utmd_stop
echo "ok: an online backup while a writer filed intents ($(wc -l <"$work/written") in all)"

# --- restore into a fresh directory ------------------------------------------
cp -a "$work/backup" "$work/restored"
utmd_start "$work/out2" "$work/restored"
grep -q "^utmd: recovered .* after a crash" "$work/out2" ||
  fail "the restored store should read as after a crash: $(cat "$work/out2")"
intent "$utmd_port" --token "$alice" --json list >"$work/alice.after" 2>&1 ||
  fail "list after restore: $(cat "$work/alice.after")"
diff "$work/alice.before" "$work/alice.after" >&2 || fail "alice's intents differ after the restore"
ctl "$utmd_port" --token "$alice" --json get "$constraint" >"$work/c.after" 2>&1 ||
  fail "constraint after restore: $(cat "$work/c.after")"
diff "$work/c.before" "$work/c.after" >&2 || fail "the constraint differs after the restore"
intent "$utmd_port" --token "$writer" list --state accepted >"$work/writer.after" 2>&1 ||
  fail "writer list: $(cat "$work/writer.after")"
while read -r id; do
  grep -q "^intent $id: ACCEPTED" "$work/writer.after" ||
    fail "intent $id, acknowledged before the backup began, is not in it"
done <"$work/written.before-backup"
echo "ok: restored into a fresh directory: the same intents, constraint and tokens; all $(wc -l <"$work/written.before-backup") filings acknowledged before the backup are there"
utmd_stop

# --- offline: a copy after a clean stop --------------------------------------
cp -a "$work/restored" "$work/offline"
utmd_start "$work/out3" "$work/offline"
grep -q "^utmd: recovered .* closed cleanly" "$work/out3" ||
  fail "a copy after a clean stop: $(cat "$work/out3")"
intent "$utmd_port" --token "$alice" --json list >"$work/alice.offline" 2>&1 ||
  fail "list offline: $(cat "$work/alice.offline")"
diff "$work/alice.before" "$work/alice.offline" >&2 || fail "alice's intents differ in the offline copy"
utmd_stop
echo "ok: a copy after a clean stop starts as closed cleanly and serves the same intents"
