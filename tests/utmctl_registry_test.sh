#!/usr/bin/env bash
# End-to-end: the aircraft registry against a real utmd on loopback that
# requires registration above 250 g. A regulator registers an aircraft;
# malformed and unauthorised writes are refused; reads are the regulator's,
# the operator's own, or the police's with a case reference (audited).
# Activation asks the registry: a registered aircraft flies, an unregistered
# heavy one, an unnamed one and another operator's do not, a declared light
# one does. Positions of an unregistered heavy aircraft are refused. Revoking
# the registration of an aircraft in flight alerts its pilot and a watcher of
# the area while it stays tracked; a new activation with it is refused; the
# registration survives a restart. The police's Remote ID details of the
# flying aircraft carry its registration. Every wait is bounded.
# Usage: utmctl_registry_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/utmd.out" "$work/data" --registration-threshold-g 250

registry() { "$UTMCTL" registry --server "127.0.0.1:$utmd_port" "$@"; }
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
tel() { "$UTMCTL" telemetry --server "127.0.0.1:$utmd_port" "$@"; }
caa=$(utmd_token regulator caa-1) || exit 1
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1
police=$(utmd_token police officer-17) || exit 1
monitor=$(utmd_token monitor sup-1) || exit 1
auditor=$(utmd_token auditor aud-1) || exit 1
HEAVY=1596A4JPN5R7B10    # alice's, registered, 900 g
STRAY=1596A4JPN5R7B99    # nobody's, unregistered

# --- registering ------------------------------------------------------------------
out=$(registry --token "$caa" register "$HEAVY" --mass-g 900 --operator alice \
  --operator-registration FA3A7CX9KL --make-model "Quad X4" \
  --ua-type helicopter-or-multirotor 2>&1) || fail "register: $out"
[[ "$out" == *"registration $HEAVY: IN FORCE, 900 g, operator alice (FA3A7CX9KL), version 1"* &&
   "$out" == *"aircraft: Quad X4, helicopter-or-multirotor"* &&
   "$out" == *"registered by caa-1 at "* ]] || fail "register: $out"
out=$(registry --token "$caa" register "$HEAVY" --mass-g 900 --operator bob \
  --operator-registration FA0000000B 2>&1); code=$?
[[ $code == 6 && "$out" == ALREADY_EXISTS:* ]] || fail "registering it twice: $code $out"
out=$(registry --token "$caa" register 1596A4JPN5R7B1 --mass-g 900 --operator alice \
  --operator-registration FA3A7CX9KL 2>&1); code=$?
[[ $code == 2 && "$out" == "INVALID_ARGUMENT: registration.serial_number: "* ]] ||
  fail "a serial number one character short: $code $out"
out=$(registry --token "$caa" register 1596A4JPN5R7B11 --mass-g 0 --operator alice \
  --operator-registration FA3A7CX9KL 2>&1); code=$?
[[ $code == 2 && "$out" == "INVALID_ARGUMENT: registration.mass_g: "* ]] ||
  fail "a mass of 0 g: $code $out"
out=$(registry --token "$alice" register 1596A4JPN5R7B12 --mass-g 900 --operator alice \
  --operator-registration FA3A7CX9KL 2>&1); code=$?
[[ $code == 4 && "$out" == *"utm.registry"* ]] || fail "an operator registering: $code $out"
echo "ok: a regulator registers; twice, a malformed field or an operator's token is refused"

# --- reading --------------------------------------------------------------------
out=$(registry --token "$alice" get "$HEAVY" 2>&1) || fail "alice reads her own: $out"
[[ "$out" == *"IN FORCE, 900 g, operator alice"* ]] || fail "alice reads her own: $out"
out=$(registry --token "$bob" get "$HEAVY" 2>&1); code=$?
[[ $code == 4 ]] || fail "bob reads alice's registration: $code $out"
out=$(registry --token "$bob" get "$STRAY" 2>&1); code=$?
[[ $code == 4 ]] || fail "bob asks about an unregistered serial: $code $out (must not tell it apart)"
out=$(registry --token "$police" get "$HEAVY" 2>&1); code=$?
[[ $code != 0 && "$out" != *FA3A7CX9KL* ]] || fail "the police without a case: $code $out"
out=$(registry --token "$police" get "$HEAVY" --case WARRANT-2026-0042 2>&1) ||
  fail "the police with a case: $out"
[[ "$out" == *"operator alice (FA3A7CX9KL)"* ]] || fail "the police with a case: $out"
out=$("$UTMCTL" audit --server "127.0.0.1:$utmd_port" --token "$auditor" list 2>&1) ||
  fail "audit list: $out"
grep -qE "^[0-9]+ [0-9T:+Z-]+ registration subject=officer-17 case=WARRANT-2026-0042 target=$HEAVY about=alice disclosed=.*FA3A7CX9KL" <<<"$out" ||
  fail "no audit entry for the police's read: $out"
out=$(registry --token "$alice" list 2>&1) || fail "alice lists: $out"
[[ "$out" == *"1 registration(s)"* ]] || fail "alice lists: $out"
echo "ok: reads are the operator's own, the police's with a case (audited), nobody else's"

# --- activation -------------------------------------------------------------------
circle_intent "$work/a.json" 47.40 8.55
circle_intent "$work/b.json" 47.44 8.55
circle_intent "$work/c.json" 47.48 8.55
circle_intent "$work/d.json" 47.52 8.55
circle_intent "$work/e.json" 47.56 8.55

unnamed=$(filed_id "$alice" "$work/b.json") || exit 1
out=$(intent --token "$alice" activate "$unnamed" --version 1 2>&1); code=$?
[[ $code == 6 && "$out" == "FAILED_PRECONDITION: aircraft: "* ]] ||
  fail "activating with no aircraft named: $code $out"
out=$(intent --token "$alice" activate "$unnamed" --version 1 --aircraft "$STRAY" --mass-g 900 2>&1); code=$?
[[ $code == 6 && "$out" == "FAILED_PRECONDITION: aircraft.serial_number: $STRAY is not registered"* ]] ||
  fail "activating with an unregistered 900 g aircraft: $code $out"
out=$(intent --token "$alice" get "$unnamed" 2>&1) || fail "get: $out"
[[ "$out" == *"ACCEPTED, priority 0, version 1"* ]] || fail "a refused activation changed the intent: $out"
out=$(intent --token "$alice" activate "$unnamed" --version 1 --aircraft mini-1 --mass-g 249 2>&1) ||
  fail "activating a declared 249 g aircraft: $out"
bobs=$(filed_id "$bob" "$work/c.json" --aircraft "$HEAVY" --mass-g 900) || exit 1
out=$(intent --token "$bob" activate "$bobs" --version 1 2>&1); code=$?
[[ $code == 6 && "$out" == *"$HEAVY is registered to another operator"* && "$out" != *alice* ]] ||
  fail "bob activating alice's aircraft: $code $out"
flight=$(filed_id "$alice" "$work/a.json" --aircraft "$HEAVY" --mass-g 900) || exit 1
out=$(intent --token "$alice" activate "$flight" --version 1 2>&1) || fail "activating $HEAVY: $out"
out=$(intent --token "$alice" get "$flight" 2>&1) || fail "get: $out"
[[ "$out" == *"aircraft: $HEAVY, 900 g"* ]] || fail "the intent's aircraft: $out"
echo "ok: activation: registered flies; unnamed, unregistered heavy and another operator's do not; declared light does"

# --- positions ----------------------------------------------------------------------
out=$(tel --token "$alice" fly --aircraft "$STRAY" --intent "$flight" --from 47.40,8.55,200 \
  --velocity 0,0,0 --duration-s 1 --rate-hz 2 2>&1 </dev/null)
[[ "$out" == *"report refused"*"aircraft_id: $STRAY is not registered"* ]] ||
  fail "an unregistered 900 g aircraft streaming: $out"
echo "ok: positions of an unregistered heavy aircraft are refused with the reason"

# --- revoked in flight ----------------------------------------------------------------
tel --token "$monitor" watch --circle 47.40,8.55,2000 --kinds registration_revoked \
  --count 1 --timeout-s 30 >"$work/watch.out" 2>"$work/watch.err" </dev/null &
watch_pid=$!; background+=("$watch_pid")
tel --token "$alice" fly --aircraft "$HEAVY" --intent "$flight" --from 47.40,8.55,200 \
  --velocity 0,2,0 --duration-s 20 --until-alert registration_revoked \
  >"$work/fly.out" 2>"$work/fly.err" </dev/null &
fly_pid=$!; background+=("$fly_pid")
wait_for_line "$work/fly.err" '^fly: '
sleep 1.5  # a few reports in: the aircraft is tracked
# The police, looking at the display, learn whose it is from the registry.
public=$(utmd_token display public-1) || exit 1
rid() { "$UTMCTL" rid --server "127.0.0.1:$utmd_port" "$@"; }
session=""
for _ in $(seq 1 40); do
  out=$(rid --token "$public" view --around 47.40,8.55,1400 2>&1) || fail "view: $out"
  if [[ "$out" == utm-*" network "* ]]; then session=${out%% *}; break; fi
  sleep 0.1
done
[[ -n "$session" ]] || fail "the flying aircraft is not on the display: $out"
out=$(rid --token "$police" details "$session" --case WARRANT-2026-0042 2>&1) ||
  fail "details of $session: $out"
[[ "$out" == *"serial_number: $HEAVY"* && "$out" == *"operator_id: FA3A7CX9KL"* &&
   "$out" == *"make_model: Quad X4"* && "$out" == *"registry: in force"* ]] ||
  fail "details of $session without the registration: $out"
out=$(registry --token "$caa" revoke "$HEAVY" --reason "failed inspection" 2>&1) ||
  fail "revoke: $out"
[[ "$out" == *"REVOKED, 900 g"* && "$out" == *"revoked by caa-1 at "*": failed inspection"* ]] ||
  fail "revoke: $out"
wait "$fly_pid"; fly_code=$?
wait "$watch_pid"; watch_code=$?
background=()
[[ $fly_code == 0 ]] || fail "the pilot was not alerted ($fly_code): $(cat "$work/fly.out" "$work/fly.err")"
grep -qE "RAISED REGISTRATION_REVOKED $HEAVY.*failed inspection" "$work/fly.out" ||
  fail "the pilot's alert: $(cat "$work/fly.out")"
grep -q 'refused (batch' "$work/fly.err" &&
  fail "reports were refused after the revocation (it must stay tracked): $(cat "$work/fly.err")"
[[ $watch_code == 0 ]] || fail "the watcher ($watch_code): $(cat "$work/watch.out" "$work/watch.err")"
grep -qE "REGISTRATION_REVOKED $HEAVY" "$work/watch.out" || fail "the watcher's alert: $(cat "$work/watch.out")"
again=$(filed_id "$alice" "$work/d.json" --aircraft "$HEAVY" --mass-g 900) || exit 1
out=$(intent --token "$alice" activate "$again" --version 1 2>&1); code=$?
[[ $code == 6 && "$out" == *"$HEAVY was revoked at "*"failed inspection"* ]] ||
  fail "activating a revoked aircraft: $code $out"
echo "ok: revoked in flight: the pilot and a watcher are alerted, reports still taken; a new activation is refused"

# --- kept across a restart --------------------------------------------------------
utmd_stop
utmd_start "$work/utmd2.out" "$work/data" --registration-threshold-g 250
out=$(registry --token "$caa" list --all 2>&1) || fail "list after restart: $out"
[[ "$out" == *"registration $HEAVY: REVOKED"*"failed inspection"* && "$out" == *"1 registration(s)"* ]] ||
  fail "the registry after a restart: $out"
out=$("$UTMCTL" audit --server "127.0.0.1:$utmd_port" --token "$auditor" verify 2>&1) ||
  fail "audit verify: $out"
utmd_stop
echo "ok: registrations and revocations survive a restart; the audit chain is intact"
echo "PASS"
