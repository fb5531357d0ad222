#!/usr/bin/env bash
# End-to-end: the utmd binary starts on a free loopback port, reports
# SERVING to `utmctl health`, drains and exits 0 on SIGTERM, and refuses bad
# flags. Usage: utmd_lifecycle_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/out" "$work/data"
port=$utmd_port
[[ -d "$work/data" ]] || fail "utmd did not create its data directory"
echo "ok: utmd listening on port $port"
mode=$(stat -c %a "$work/data/audit.log") || fail "no audit.log in the data directory"
[[ "$mode" == 600 ]] || fail "audit.log created with mode $mode, not 600"
echo "ok: audit.log created 0600"

out=$("$UTMCTL" health --server "127.0.0.1:$port" 2>&1) || fail "health: $out"
[[ "$out" == *SERVING* ]] || fail "health said: $out"
echo "ok: $out"

# Flight intents through utmctl, with dev tokens minted from the data dir.
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/intent.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": 8.5417}, "radiusM": 200},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
intent() { "$UTMCTL" intent --server "127.0.0.1:$port" "$@"; }
out=$(intent --token "$alice" file "$work/intent.json" --request-id r1) || fail "file: $out"
[[ "$out" == ACCEPTED* ]] || fail "file said: $out"
id=$(echo "$out" | sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p')
out=$(intent --token "$alice" file "$work/intent.json" --request-id r1) || fail "retry: $out"
[[ "$out" == *"$id"* ]] || fail "retry filed again: $out"
out=$(intent --token "$bob" file "$work/intent.json"); code=$?
[[ $code == 1 && "$out" == *REJECTED* && "$out" == *"$id"* ]] || fail "conflict: $code $out"
out=$(intent --token "$alice" modify "$id" "$work/intent.json" --version 9 2>&1); code=$?
[[ $code == 3 && "$out" == *"ABORTED"* ]] || fail "stale: $code $out"
out=$(intent file "$work/intent.json" 2>&1); code=$?
[[ $code == 4 && "$out" == *"UNAUTHENTICATED"* ]] || fail "no token: $code $out"
echo "ok: utmctl intent file / retry / conflict / stale version / no token"

# Law enforcement with a case reference sees the owner; the disclosure is
# audited, one line, with the values escaped (a subject cannot forge a
# second line).
police=$(utmd_token police $'cop\nforged owner=x') || exit 1
out=$(intent --token "$police" get "$id" --case CASE-1 2>&1) || fail "police get: $out"
[[ "$out" == *alice* ]] || fail "police did not see the owner: $out"
lines=$(wc -l <"$work/data/audit.log")
[[ $lines == 1 ]] || fail "audit.log has $lines lines: $(cat "$work/data/audit.log")"
grep -qE '^seq=1 time=[^ ]+ action=intent-owner subject=cop%0Aforged%20owner%3Dx case=CASE-1 target=[^ ]+ about=alice disclosed=alice salt=[0-9a-f]{32} prev=0{64} hash=[0-9a-f]{64}$' \
  "$work/data/audit.log" || fail "audit line: $(cat "$work/data/audit.log")"
echo "ok: a disclosure is audited on one escaped line"

utmd_stop
grep -q "^utmd: stopped" "$work/out" || fail "no 'stopped' line: $(cat "$work/out")"
echo "ok: SIGTERM drains and exits 0"

"$UTMCTL" health --server "127.0.0.1:$port" --timeout 1 >/dev/null 2>&1
[[ $? == 69 ]] || fail "health of a stopped server should exit 69"
echo "ok: health of a stopped server exits 69"

# TLS: utmd with a self-signed certificate; utmctl trusting it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  >/dev/null 2>&1 || fail "openssl could not make a test certificate"
# An audit.log left world-readable (by an older utmd) is tightened.
mkdir -p "$work/tls-data"
install -m 644 /dev/null "$work/tls-data/audit.log"
utmd_start "$work/tls-out" "$work/tls-data" --tls-cert "$work/cert.pem" \
  --tls-key "$work/key.pem"
tls_port=$utmd_port
mode=$(stat -c %a "$work/tls-data/audit.log")
[[ "$mode" == 600 ]] || fail "an existing 0644 audit.log was left at mode $mode"
echo "ok: an existing 0644 audit.log is tightened to 0600"
grep -q "^utmd: listening on 127\.0\.0\.1:$tls_port .*, TLS)" "$work/tls-out" ||
  fail "utmd did not say it speaks TLS: $(cat "$work/tls-out")"
out=$("$UTMCTL" health --server "localhost:$tls_port" --tls-ca "$work/cert.pem" 2>&1) ||
  fail "TLS health: $out"
[[ "$out" == *SERVING* ]] || fail "TLS health said: $out"
"$UTMCTL" health --server "localhost:$tls_port" --timeout 2 >/dev/null 2>&1
[[ $? == 69 ]] || fail "a plaintext client reached the TLS server"
utmd_stop
echo "ok: TLS with --tls-cert/--tls-key; utmctl --tls-ca"

touch "$work/file"
out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/file/sub" 2>&1 </dev/null)
[[ $? == 1 && "$out" == *"cannot create --data-dir"* ]] || fail "bad data dir: $out"
out=$(timeout 10 "$UTMD" --listen 127.0.0.1:99999 --data-dir "$work/data" 2>&1 </dev/null)
[[ $? == 1 && "$out" == *"port from 0 to 65535"* ]] || fail "bad port: $out"
echo "ok: bad flags are refused with a message"
