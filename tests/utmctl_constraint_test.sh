#!/usr/bin/env bash
# End-to-end: `utmctl constraint ...` against a real utmd on loopback.
# Publish/get/query/withdraw, version conflicts and scopes, a prohibited TFR
# refusing an intent until a grant, self-unlock rules, revocation, position
# checks, and the watch stream: live events, resuming with --since (exactly
# the later events), and resuming across a utmd restart on the same data.
# Every wait is bounded. Usage: utmctl_constraint_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/out" "$work/data"
ctl() { "$UTMCTL" constraint --server "127.0.0.1:$utmd_port" "$@"; }
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
reg=$(utmd_token regulator CH-FOCA) || exit 1
other_reg=$(utmd_token regulator DE-LBA) || exit 1
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1
carol=$(utmd_token operator carol) || exit 1

t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
from=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d '+2 hour' +%Y-%m-%dT%H:%M:%SZ)

# constraint_file FILE TYPE LAT LNG RADIUS_M [EXTRA_JSON_FIELDS]
constraint_file() {
  cat >"$1" <<JSON
{"type": "CONSTRAINT_TYPE_$2", "reason": "test $2", "messageForPilots": "keep out",
 "authority": {"name": "test authority"} ${6:-},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $3, "lngDeg": $4}, "radiusM": $5},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 1500, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$end"}]}
JSON
}
# intent_file FILE LAT LNG
intent_file() {
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 200},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
}
published_id() { sed -n 's/^PUBLISHED constraint \([^:]*\):.*/\1/p' <<<"$1"; }
accepted_id() { sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$1"; }

# --- publish / get / query / withdraw, versions and scopes -----------------
constraint_file "$work/tfr.json" PROHIBITED 47.3769 8.5417 2000
intent_file "$work/alice.json" 47.3769 8.5417
out=$(intent --token "$alice" file "$work/alice.json" 2>&1) || fail "alice file: $out"
alice_intent=$(accepted_id "$out")
[[ -n "$alice_intent" ]] || fail "alice's intent: $out"

out=$(ctl --token "$alice" publish "$work/tfr.json" 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "operator publish: $code $out"
echo "ok: an operator cannot publish (PERMISSION_DENIED, exit 4)"

out=$(ctl --token "$reg" publish "$work/tfr.json" --request-id tfr-1 2>&1) ||
  fail "publish: $out"
tfr=$(published_id "$out")
[[ -n "$tfr" && "$out" == *"PROHIBITED, active, version 1"* ]] || fail "publish said: $out"
[[ "$out" == *"affects intent $alice_intent"*"CONSTRAINT_PROHIBITED"* ]] ||
  fail "publish did not list alice's intent as affected: $out"
[[ "$out" == *"volumes[0] meets its volumes[0] from $t0 to $t1 between 500.0 m and 620.0 m"* ]] ||
  fail "publish did not say where the intent is affected: $out"
out=$(ctl --token "$reg" publish "$work/tfr.json" --request-id tfr-1 2>&1) ||
  fail "retry: $out"
[[ $(published_id "$out") == "$tfr" ]] || fail "a retry published again: $out"
echo "ok: publish lists the accepted intent it cuts through; a retry is idempotent"

out=$(ctl --token "$bob" get "$tfr" 2>&1) || fail "get: $out"
[[ "$out" == "constraint $tfr: PROHIBITED, active, version 1, 1 volume(s)"* &&
   "$out" == *"authority: CH-FOCA"* && "$out" == *"message for pilots: keep out"* &&
   "$out" == *"circle of 2000.0 m"* ]] || fail "get said: $out"
out=$(ctl --token "$bob" get no-such-id 2>&1); code=$?
[[ $code == 5 && "$out" == *NOT_FOUND* ]] || fail "get unknown: $code $out"
out=$(ctl --token "$bob" --json get "$tfr" 2>&1) || fail "get --json: $out"
[[ "$out" == "{\"id\":\"$tfr\""* ]] || fail "get --json said: $out"
echo "ok: get (human, --json), NOT_FOUND exits 5"

out=$(ctl --token "$bob" query --bbox 47.3,8.4,47.5,8.7 2>&1) || fail "query: $out"
[[ "$out" == *"constraint $tfr: PROHIBITED"* && "$out" == *"1 constraint(s) in the area" ]] ||
  fail "query said: $out"
out=$(ctl --token "$bob" query --area "$work/alice.json" --type prohibited,advisory 2>&1) ||
  fail "query --area: $out"
[[ "$out" == *"constraint $tfr"* ]] || fail "query --area said: $out"
out=$(ctl --token "$bob" query --bbox 47.3,8.4,47.5,8.7 --type advisory 2>&1) ||
  fail "query --type: $out"
[[ "$out" == "0 constraint(s) in the area" ]] || fail "query --type advisory said: $out"
out=$(ctl --token "$bob" query --bbox 46.0,7.0,46.1,7.1 2>&1) || fail "query far: $out"
[[ "$out" == "0 constraint(s) in the area" ]] || fail "query elsewhere said: $out"
out=$(ctl --token "$bob" query --bbox 47.5,8.4,47.3,8.7 2>&1); code=$?
[[ $code == 64 && "$out" == *"min < max"* ]] || fail "bad bbox: $code $out"
echo "ok: query by --bbox, --area and --type; a bad box is a usage error"

# --- an intent refused by the TFR, accepted after a grant --------------------
intent_file "$work/bob.json" 47.3769 8.5517  # in the TFR, clear of alice
out=$(intent --token "$bob" file "$work/bob.json" 2>&1); code=$?
[[ $code == 1 && "$out" == *REJECTED* &&
   "$out" == *"constraint $tfr (PROHIBITED: CONSTRAINT_PROHIBITED)"* &&
   "$out" == *"volumes[0] meets its volumes[0] from $t0 to $t1"* ]] ||
  fail "bob's intent in the TFR: $code $out"
out=$(ctl --token "$other_reg" grant "$tfr" --operator bob --from "$from" --to "$to" 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "grant by another authority: $code $out"
out=$(ctl --token "$reg" grant "$tfr" --operator bob --from "$from" --to "$to" \
  --reference PERMIT-7 2>&1) || fail "grant: $out"
grant=$(sed -n 's/^GRANTED authorisation \([^:]*\):.*/\1/p' <<<"$out")
[[ -n "$grant" && "$out" == *"GRANTED, constraint $tfr, operator bob"*"reference PERMIT-7"* ]] ||
  fail "grant said: $out"
out=$(ctl --token "$reg" grant "$tfr" --operator bob --from yesterday --to "$to" 2>&1); code=$?
[[ $code == 64 && "$out" == *"not an RFC 3339 time"* ]] || fail "bad --from: $code $out"
out=$(intent --token "$bob" file "$work/bob.json" 2>&1) || fail "bob after grant: $out"
[[ "$out" == ACCEPTED* && "$out" == *"advisory: constraint $tfr (PROHIBITED: CONSTRAINT_ADVISORY)"* ]] ||
  fail "bob after grant said: $out"
echo "ok: a prohibited TFR refuses an intent (naming it, the volumes, the window); after a grant it is accepted with an advisory"

# --- check a position ---------------------------------------------------------
out=$(ctl --token "$bob" check --lat 47.3769 --lng 8.5417 --alt-m 550 2>&1) || fail "check: $out"
[[ "$out" == *"applicable (1):"*"PROHIBITED $tfr: test PROHIBITED, authorised: yes"* ]] ||
  fail "check inside (bob) said: $out"
out=$(ctl --token "$carol" check --lat 47.3769 --lng 8.5417 2>&1) || fail "check: $out"
[[ "$out" == *"PROHIBITED $tfr: test PROHIBITED, authorised: no"* ]] ||
  fail "check inside (carol) said: $out"
out=$(ctl --token "$carol" check --lat 47.3769 --lng 8.5417 --alt-m 2000 2>&1) || fail "check: $out"
[[ "$out" == *"applicable (0): none"*"PROHIBITED $tfr: 0.0 m away, 500.0 m vertically"* ]] ||
  fail "check above said: $out"
# 0.0236 degrees of latitude north: 2.62 km from the centre, ~620 m outside.
out=$(ctl --token "$carol" check --lat 47.4005 --lng 8.5417 --radius-m 5000 2>&1) || fail "check: $out"
[[ "$out" == *"applicable (0): none"*"nearby within 5000 m (1):"*"PROHIBITED $tfr: 6"[0-9][0-9].*" m away"* ]] ||
  fail "check nearby said: $out"
out=$(ctl --token "$carol" check --lat 47.4005 --lng 8.5417 --radius-m 100 2>&1) || fail "check: $out"
[[ "$out" == *"applicable (0): none"*"nearby within 100 m (0): none"* ]] ||
  fail "check outside said: $out"
echo "ok: check inside (authorised or not), above, nearby with its distance, outside"

# --- self-unlock rules, revocation, listing ----------------------------------
out=$(ctl --token "$carol" unlock "$tfr" --from "$from" --to "$to" 2>&1); code=$?
[[ $code == 64 && "$out" == *"--acknowledge"*"nothing was sent"* ]] ||
  fail "unlock without --acknowledge: $code $out"
out=$(ctl --token "$carol" unlock "$tfr" --from "$from" --to "$to" --acknowledge 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "unlock PROHIBITED: $code $out"
constraint_file "$work/ra.json" REQUIRES_AUTHORISATION 47.45 8.60 1000 ', "selfUnlockAllowed": true'
out=$(ctl --token "$reg" publish "$work/ra.json" 2>&1) || fail "publish RA: $out"
ra=$(published_id "$out")
intent_file "$work/carol.json" 47.45 8.60
out=$(intent --token "$carol" file "$work/carol.json" 2>&1); code=$?
[[ $code == 1 && "$out" == *"constraint $ra (REQUIRES_AUTHORISATION: CONSTRAINT_AUTHORISATION_REQUIRED)"* ]] ||
  fail "carol before unlock: $code $out"
out=$(ctl --token "$carol" unlock "$ra" --from "$from" --to "$to" --acknowledge 2>&1) ||
  fail "unlock RA: $out"
unlock=$(sed -n 's/^UNLOCKED authorisation \([^:]*\):.*/\1/p' <<<"$out")
[[ -n "$unlock" && "$out" == *"SELF_UNLOCK, constraint $ra, operator carol"* ]] ||
  fail "unlock said: $out"
out=$(intent --token "$carol" file "$work/carol.json" 2>&1) || fail "carol after unlock: $out"
[[ "$out" == ACCEPTED* && "$out" == *"advisory: constraint $ra"* ]] || fail "carol after unlock: $out"
echo "ok: unlock needs --acknowledge, is refused on PROHIBITED, works on REQUIRES_AUTHORISATION with self_unlock_allowed"

out=$(ctl --token "$bob" revoke "$grant" 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "bob revokes a grant: $code $out"
out=$(ctl --token "$reg" revoke "$grant" --reason "fire spreading" 2>&1) || fail "revoke: $out"
[[ "$out" == "REVOKED authorisation $grant:"*"revoked "*"(fire spreading)"* ]] || fail "revoke said: $out"
out=$(ctl --token "$bob" authorisations 2>&1) || fail "authorisations: $out"
[[ "$out" == "0 authorisation(s)" ]] || fail "bob's valid authorisations: $out"
out=$(ctl --token "$bob" authorisations --all 2>&1) || fail "authorisations --all: $out"
[[ "$out" == *"authorisation $grant: GRANTED"*"revoked"*"1 authorisation(s)" ]] ||
  fail "bob's authorisations --all: $out"
out=$(ctl --token "$reg" authorisations --constraint "$ra" 2>&1) || fail "authorisations: $out"
[[ "$out" == *"authorisation $unlock: SELF_UNLOCK"*"1 authorisation(s)" ]] ||
  fail "authorisations on the RA zone: $out"
out=$(ctl --token "$bob" check --lat 47.3769 --lng 8.5417 2>&1) || fail "check: $out"
[[ "$out" == *"PROHIBITED $tfr: test PROHIBITED, authorised: no"* ]] || fail "check after revoke: $out"
out=$(ctl --token "$carol" revoke "$unlock" 2>&1) || fail "carol revokes her unlock: $out"
echo "ok: revoke (by the authority; an operator its own self-unlock), authorisations with --all and --constraint"

out=$(ctl --token "$reg" withdraw "$tfr" --version 7 2>&1); code=$?
[[ $code == 3 && "$out" == *ABORTED* ]] || fail "stale withdraw: $code $out"
out=$(ctl --token "$other_reg" withdraw "$tfr" --version 1 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* ]] || fail "withdraw by another authority: $code $out"
out=$(ctl --token "$reg" withdraw "$tfr" --version 1 --reason "fire out" 2>&1) ||
  fail "withdraw: $out"
[[ "$out" != *" active"* ]] || fail "a withdrawn constraint called active: $out"
[[ "$out" == "WITHDRAWN constraint $tfr: PROHIBITED, WITHDRAWN, version 1"* ]] ||
  fail "withdraw said: $out"
out=$(ctl --token "$bob" get "$tfr" 2>&1) || fail "get after withdraw: $out"
[[ "$out" == "constraint $tfr: PROHIBITED, WITHDRAWN, version 1"* &&
   "$out" =~ withdrawn:\ [0-9T:-]+Z\ by\ CH-FOCA\ \(fire\ out\) ]] ||
  fail "get after withdraw: $out"
echo "ok: withdraw (stale version ABORTED exit 3, another authority denied); get then shows it WITHDRAWN, by whom and when"
out=$(ctl --token "$bob" query --area "$work/alice.json" 2>&1) ||
  fail "query after withdraw: $out"
[[ "$out" != *"constraint $tfr"* ]] || fail "query listed the withdrawn one: $out"
out=$(ctl --token "$bob" query --area "$work/alice.json" --include-withdrawn 2>&1) ||
  fail "query --include-withdrawn: $out"
[[ "$out" == *"constraint $tfr: PROHIBITED, WITHDRAWN, version 1"* ]] ||
  fail "query --include-withdrawn said: $out"
echo "ok: query leaves the withdrawn one out; --include-withdrawn lists it WITHDRAWN"

# --- watch: live events, then resume with --since ----------------------------
# A fresh area with one of alice's intents in it.
box=46.0,7.0,46.3,7.3
intent_file "$work/alice2.json" 46.1 7.1
out=$(intent --token "$alice" file "$work/alice2.json" 2>&1) || fail "alice file 2: $out"
alice2=$(accepted_id "$out")
# Background jobs run the binary itself, so $! is its pid (not a subshell's).
"$UTMCTL" constraint --server "127.0.0.1:$utmd_port" --token "$alice" watch \
  --bbox "$box" --count 4 --timeout-s 20 >"$work/w1.out" 2>"$work/w1.err" </dev/null &
w1=$!
background+=("$w1")
wait_for_line "$work/w1.out" '^seq [0-9]+ snapshot end \(0\)$'
constraint_file "$work/c1.json" PROHIBITED 46.1 7.1 1000
out=$(ctl --token "$reg" publish "$work/c1.json" 2>&1) || fail "publish c1: $out"
c1=$(published_id "$out")
wait "$w1"; code=$?
[[ $code == 0 ]] || fail "watcher 1 exited $code: $(cat "$work/w1.out" "$work/w1.err")"
mapfile -t lines <"$work/w1.out"
[[ ${#lines[@]} == 4 && "${lines[0]}" =~ ^seq\ [0-9]+\ snapshot\ begin$ &&
   "${lines[2]}" =~ ^seq\ [0-9]+\ upsert\ $c1\ PROHIBITED\ active\ \(version\ 1\)$ &&
   "${lines[3]}" =~ ^seq\ [0-9]+\ intents_affected\ $c1\ $alice2$ ]] ||
  fail "watcher 1 printed: $(cat "$work/w1.out")"
s1=$(sed -n 's/^last sequence \([0-9]*\)$/\1/p' "$work/w1.err")
[[ -n "$s1" && "${lines[3]}" == "seq $s1 "* ]] || fail "last sequence: $(cat "$work/w1.err")"
echo "ok: watch prints the snapshot, the live upsert and intents_affected; last sequence $s1 on exit"

# While nobody watches: a second constraint, and c1 withdrawn.
constraint_file "$work/c2.json" ADVISORY 46.2 7.2 500
out=$(ctl --token "$reg" publish "$work/c2.json" 2>&1) || fail "publish c2: $out"
c2=$(published_id "$out")
out=$(ctl --token "$reg" withdraw "$c1" --version 1 2>&1) || fail "withdraw c1: $out"
# Outside the box: never seen by this watch.
constraint_file "$work/far.json" PROHIBITED 47.0 8.0 500
out=$(ctl --token "$reg" publish "$work/far.json" 2>&1) || fail "publish far: $out"

ctl --token "$alice" watch --bbox "$box" --since "$s1" --count 3 --timeout-s 4 \
  --heartbeat-s 1 >"$work/w2.out" 2>"$work/w2.err" </dev/null
code=$?
[[ $code == 75 ]] || fail "resumed watch (3 of 2 events) exited $code: $(cat "$work/w2.out" "$work/w2.err")"
grep -v '^heartbeat seq ' "$work/w2.out" >"$work/w2.events"
mapfile -t lines <"$work/w2.events"
[[ ${#lines[@]} == 2 && "${lines[0]}" =~ ^seq\ ([0-9]+)\ upsert\ $c2\ ADVISORY\ active ]] ||
  fail "resumed watch printed: $(cat "$work/w2.out")"
seq_a=${BASH_REMATCH[1]}
[[ "${lines[1]}" =~ ^seq\ ([0-9]+)\ removed\ $c1\ WITHDRAWN$ ]] ||
  fail "resumed watch printed: $(cat "$work/w2.out")"
seq_b=${BASH_REMATCH[1]}
((s1 < seq_a && seq_a < seq_b)) || fail "sequences $s1 < $seq_a < $seq_b do not hold"
s2=$(sed -n 's/^last sequence \([0-9]*\)$/\1/p' "$work/w2.err")
[[ -n "$s2" ]] && ((s2 >= seq_b)) || fail "last sequence after resume: $(cat "$work/w2.err")"
grep -q '^heartbeat seq ' "$work/w2.out" || fail "no heartbeat in 4 s at --heartbeat-s 1"
[[ "$(cat "$work/w2.err")" == *"2 of 3 event(s) before --timeout-s"* ]] ||
  fail "timeout message: $(cat "$work/w2.err")"
echo "ok: resuming with --since $s1 gives exactly the later events (upsert $seq_a, removed $seq_b), no duplicate; heartbeats; --timeout-s exits 75"

ctl --token "$alice" watch --bbox "$box" --since "$s2" --count 1 --timeout-s 2 \
  --heartbeat-s 1 >"$work/w3.out" 2>"$work/w3.err" </dev/null
code=$?
[[ $code == 75 && -z "$(grep -v '^heartbeat seq ' "$work/w3.out")" ]] ||
  fail "watch from the last sequence: $code $(cat "$work/w3.out" "$work/w3.err")"
echo "ok: resuming from the last sequence replays nothing"

# --- resume across a restart on the same data directory ----------------------
constraint_file "$work/c3.json" CONDITIONAL 46.15 7.15 300
out=$(ctl --token "$reg" publish "$work/c3.json" 2>&1) || fail "publish c3: $out"
c3=$(published_id "$out")
utmd_stop
utmd_start "$work/out" "$work/data"
constraint_file "$work/c4.json" PROHIBITED 46.25 7.25 300
out=$(ctl --token "$reg" publish "$work/c4.json" 2>&1) || fail "publish c4 after restart: $out"
c4=$(published_id "$out")
ctl --token "$alice" watch --bbox "$box" --since "$s2" --count 3 --timeout-s 3 \
  --heartbeat-s 1 >"$work/w4.out" 2>"$work/w4.err" </dev/null
code=$?
grep -v '^heartbeat seq ' "$work/w4.out" >"$work/w4.events"
mapfile -t lines <"$work/w4.events"
[[ $code == 75 && ${#lines[@]} == 2 &&
   "${lines[0]}" =~ ^seq\ ([0-9]+)\ upsert\ $c3\ CONDITIONAL\ active ]] ||
  fail "watch after restart ($code): $(cat "$work/w4.out" "$work/w4.err")"
seq_c=${BASH_REMATCH[1]}
[[ "${lines[1]}" =~ ^seq\ ([0-9]+)\ upsert\ $c4\ PROHIBITED\ active ]] ||
  fail "watch after restart: $(cat "$work/w4.out")"
seq_d=${BASH_REMATCH[1]}
((s2 < seq_c && seq_c < seq_d)) || fail "sequences $s2 < $seq_c < $seq_d do not hold"
echo "ok: after a restart, resuming with --since $s2 gives only the later events ($seq_c, $seq_d)"

# A watch stopped by SIGTERM still reports where to resume.
"$UTMCTL" constraint --server "127.0.0.1:$utmd_port" --token "$alice" watch \
  --bbox "$box" --timeout-s 30 >"$work/w5.out" 2>"$work/w5.err" </dev/null &
w5=$!
background+=("$w5")
wait_for_line "$work/w5.out" 'snapshot end \(3\)$'
kill -TERM "$w5"
wait "$w5"; code=$?
[[ $code == 0 ]] && grep -qE '^last sequence [0-9]+$' "$work/w5.err" ||
  fail "watch after SIGTERM: $code $(cat "$work/w5.err")"
echo "ok: a snapshot after the restart holds the box's 3 constraints; SIGTERM ends a watch with its last sequence"

utmd_stop
echo "ok: all constraint commands behaved"
