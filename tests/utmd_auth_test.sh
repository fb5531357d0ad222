#!/usr/bin/env bash
# End-to-end: who may call utmd and at which priority. `utmctl token` refuses
# to mint without utmd's key; priority bands need their scopes; with
# --auth keys, utmd verifies an identity provider's RS256 tokens against a
# JWK Set file (kid, accepted issuers and audiences) and follows a key
# rotation without a restart. Tokens are signed here with the openssl CLI.
# Usage: utmd_auth_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

# --- utmctl token without a key ----------------------------------------------
out=$("$UTMCTL" token --role operator --sub alice --data-dir "$work/data" 2>&1); code=$?
[[ $code == 66 && "$out" == *"no dev signing key"*"creates it when it starts"* ]] ||
  fail "token without a key: $code $out"
[[ ! -e "$work/data" ]] || fail "utmctl token created $work/data"
echo "ok: utmctl token without utmd's key exits 66 and creates nothing"

# --- Priority bands (dev tokens) ---------------------------------------------
utmd_start "$work/out" "$work/data"
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
# volume_file FILE LNG: a 200 m circle near Zurich.
volume_file() {
  cat >"$1" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": $2}, "radiusM": 200},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
}
volume_file "$work/a.json" 8.50
volume_file "$work/b.json" 8.55
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
operator=$(utmd_token operator alice) || exit 1
out=$(intent --token "$operator" file "$work/a.json" --priority 150 2>&1); code=$?
[[ $code == 4 && "$out" == *PERMISSION_DENIED* &&
   "$out" == *"priority: 150 exceeds 99, the most an operator token may take; 100-199 need scope utm.priority.public_safety"* ]] ||
  fail "operator at 150: $code $out"
out=$(intent --token "$operator" file "$work/a.json" --priority 99) || fail "operator at 99: $out"
rega=$(utmd_token public-safety rega) || exit 1
out=$(intent --token "$rega" file "$work/a.json" --priority 150) || fail "public safety at 150: $out"
[[ "$out" == ACCEPTED*"priority 150"* ]] || fail "public safety at 150: $out"
out=$(intent --token "$rega" file "$work/b.json" --priority 500 2>&1); code=$?
[[ $code == 4 && "$out" == *"exceeds 199"* ]] || fail "public safety at 500: $code $out"
chief=$("$UTMCTL" token --role operator --scope utm.priority.emergency --sub chief \
  --data-dir "$utmd_data") || fail "token --scope"
out=$(intent --token "$chief" file "$work/b.json" --priority 500) || fail "emergency at 500: $out"
out=$(intent --token "$chief" file "$work/b.json" --priority 1001 2>&1); code=$?
[[ $code == 2 && "$out" == *"INVALID_ARGUMENT: priority: 1001 is outside [0, 1000]"* ]] ||
  fail "emergency at 1001: $code $out"
utmd_stop
echo "ok: priority bands: operator <= 99, public-safety <= 199, emergency <= 1000"

utmd_start "$work/bands-out" "$work/data" --max-operator-priority 9 \
  --max-public-safety-priority 19 --max-priority 50
out=$(intent --token "$operator" file "$work/b.json" --priority 10 2>&1); code=$?
[[ $code == 4 && "$out" == *"priority: 10 exceeds 9, the most an operator token may take; 10-19 need scope utm.priority.public_safety, 20-50 utm.priority.emergency"* ]] ||
  fail "configured bands: $code $out"
out=$(intent --token "$chief" file "$work/b.json" --priority 51 2>&1); code=$?
[[ $code == 2 && "$out" == *"priority: 51 is outside [0, 50]"* ]] || fail "--max-priority: $code $out"
utmd_stop
echo "ok: --max-operator-priority, --max-public-safety-priority, --max-priority"

out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" --jwt-issuer x 2>&1 </dev/null)
[[ $? == 1 && "$out" == *"need --auth keys"* ]] || fail "issuer in dev mode: $out"
out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" --auth keys 2>&1 </dev/null)
[[ $? == 1 && "$out" == *"needs --jwks or --jwt-public-key"* ]] || fail "keys without keys: $out"
out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" \
  --max-operator-priority 300 2>&1 </dev/null)
[[ $? == 1 && "$out" == *"below the max operator priority 300"* ]] || fail "bands: $out"
echo "ok: dev mode refuses identity-provider flags; disordered bands refused"

# --- An identity provider's RS256 keys in a JWK Set ------------------------------
b64url() { basenc --base64url -w0 | tr -d '='; }
# new_key NAME: an RSA key pair in $work/NAME.pem and its JWK (kid NAME).
new_key() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$1.pem" \
    2>/dev/null || fail "openssl genpkey"
  local n
  n=$(openssl rsa -in "$work/$1.pem" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
  printf '{"kty": "RSA", "kid": "%s", "use": "sig", "alg": "RS256", "n": "%s", "e": "AQAB"}' "$1" "$n"
}
# deploy JWK...: writes the set and renames it into place.
deploy() {
  local IFS=,
  echo "{\"keys\": [$*]}" >"$work/jwks.new" && mv "$work/jwks.new" "$work/jwks.json"
}
# idp_token KEY KID ISS AUD: an RS256 token for sub "idp-op" with the
# strategic coordination scope, valid for 10 minutes.
idp_token() {
  local now header payload
  now=$(date +%s)
  header=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$2" | b64url)
  payload=$(printf '{"iss":"%s","aud":["account","%s"],"sub":"idp-op","iat":%d,"exp":%d,"scope":"profile utm.strategic_coordination"}' \
    "$3" "$4" "$now" $((now + 600)) | b64url)
  printf '%s.%s.%s' "$header" "$payload" \
    "$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$work/$1.pem" | b64url)"
}
jwk1=$(new_key k2027a) || exit 1
jwk2=$(new_key k2027b) || exit 1
deploy "$jwk1"
utmd_start "$work/keys-out" "$work/keys-data" --auth keys --jwks "$work/jwks.json" \
  --jwt-issuer https://idp.example/realms/utm --jwt-issuer https://idp2.example \
  --jwt-audience utmd-eu
[[ ! -e "$work/keys-data/dev-signing-key" ]] || fail "--auth keys created a dev key"
iss=https://idp.example/realms/utm
out=$(intent --token "$(idp_token k2027a k2027a "$iss" utmd-eu)" file "$work/a.json") ||
  fail "RS256 token of key k2027a: $out"
out=$(intent --token "$(idp_token k2027a k2027a https://idp2.example utmd-eu)" get nope 2>&1); code=$?
[[ $code == 5 ]] || fail "second issuer: $code $out"
out=$(intent --token "$(idp_token k2027a k2027a https://evil.example utmd-eu)" get nope 2>&1); code=$?
[[ $code == 4 && "$out" == *"issuer \"https://evil.example\" is none of the accepted"* ]] ||
  fail "wrong issuer: $code $out"
out=$(intent --token "$(idp_token k2027a k2027a "$iss" utmd-us)" get nope 2>&1); code=$?
[[ $code == 4 && "$out" == *"does not include \"utmd-eu\""* ]] || fail "wrong audience: $code $out"
out=$(intent --token "$(idp_token k2027b k2027a "$iss" utmd-eu)" get nope 2>&1); code=$?
[[ $code == 4 && "$out" == *"signature verification failed (RS256)"* ]] ||
  fail "key b under kid a: $code $out"
out=$(intent --token "$("$UTMCTL" token --role operator --sub x --data-dir "$work/data")" get nope 2>&1); code=$?
[[ $code == 4 && "$out" == *"token alg \"HS256\" is not accepted"* ]] || fail "dev token: $code $out"
echo "ok: --auth keys --jwks: RS256 by kid, several issuers, audience, wrong key, no HS256"

# Rotation: publish k2027b beside k2027a; a token naming it is accepted
# without a restart, then k2027a is dropped.
new_token=$(idp_token k2027b k2027b "$iss" utmd-eu)
old_token=$(idp_token k2027a k2027a "$iss" utmd-eu)
sleep 1.1  # unknown kids make utmd look at the file at most once a second
deploy "$jwk1" "$jwk2"
out=$(intent --token "$new_token" get nope 2>&1); code=$?
[[ $code == 5 ]] || fail "new key after rotation: $code $out"
grep -q 'key set .*jwks.json reloaded: 2 key(s), kids "k2027a", "k2027b"' "$work/keys-out" ||
  fail "no reload logged: $(cat "$work/keys-out")"
# A broken file is ignored: the keys in force stay.
echo '{"keys": [' >"$work/jwks.new" && mv "$work/jwks.new" "$work/jwks.json"
sleep 1.1
out=$(intent --token "$(idp_token k2027b unknown-kid "$iss" utmd-eu)" get nope 2>&1); code=$?
[[ $code == 4 && "$out" == *"kid \"unknown-kid\" is not in the key set"* ]] ||
  fail "unknown kid: $code $out"
wait_for_line "$work/keys-out" 'keeping the previous 2 key\(s\)'
out=$(intent --token "$new_token" get nope 2>&1); code=$?
[[ $code == 5 ]] || fail "after a broken file: $code $out"
out=$(intent --token "$old_token" get nope 2>&1); code=$?
[[ $code == 5 ]] || fail "old key before it is dropped: $code $out"
utmd_stop
echo "ok: key rotation without a restart; a broken key set keeps the keys in force"
