#!/usr/bin/env bash
# End-to-end encryption at rest (--store-key): utmd started with a key files
# an intent; restarted with the same key it still serves it; restarted with a
# wrong key, with no key, or with a key file others can read, it exits
# non-zero with a clear message and leaves every file of the store as it was
# (LOCK included); no file of the store holds the intent's plaintext; key
# rotation with --store-old-key, after which the old key is not needed.
# Usage: utmd_store_key_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

data="$work/data"
key="$work/store.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$key"
chmod 600 "$key"
UTMD_TEST_WRONG_KEY=$(printf '%064d' 7)
export UTMD_TEST_WRONG_KEY

utmd_start "$work/out" "$data" --store-key "$key"
port=$utmd_port
grep -q "encrypted with key [0-9a-f]\{16\}" "$work/out" ||
  fail "no key id in the recovery line: $(cat "$work/out")"
alice=$(utmd_token operator alice) || exit 1
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/intent.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 47.4, "lngDeg": 8.5}, "radiusM": 100},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
out=$("$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" file "$work/intent.json") ||
  fail "file: $out"
id=$(echo "$out" | sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p')
[[ -n "$id" ]] || fail "no intent id in: $out"
utmd_stop
echo "ok: intent $id filed under --store-key"

# The intent id and the operator's name are in the store, but not in the clear.
for needle in "$id" alice; do
  if grep -rqaF -- "$needle" "$data/store"; then
    fail "\"$needle\" found in the clear under $data/store"
  fi
done
echo "ok: neither the intent id nor the operator is in the clear on disk"

utmd_start "$work/out2" "$data" --store-key "$key"
port=$utmd_port
"$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" get "$id" >/dev/null ||
  fail "intent $id lost after a restart with the same key"
utmd_stop
echo "ok: restarted with the same key, intent $id is served"

store_digest() {  # every file of the store, LOCK included
  find "$data/store" -type f -exec sha256sum {} + | sort
}
refused() {  # refused WHAT EXPECTED_FRAGMENT UTMD_FLAGS...
  local what=$1 expected=$2 before out code
  shift 2
  before=$(store_digest)
  out=$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$data" "$@" 2>&1 </dev/null)
  code=$?
  [[ $code != 0 && "$out" == *"$expected"* ]] || fail "$what: exit $code: $out"
  [[ "$(store_digest)" == "$before" ]] || fail "$what: the store changed"
  echo "ok: $what: exit $code, store unchanged: $(echo "$out" | grep -m1 'store key')"
}
refused "a wrong key" "FAILED_PRECONDITION: store key: the store was written with key" \
  --store-key env:UTMD_TEST_WRONG_KEY
refused "no key" "but no store key is given (--store-key)"
lax="$work/lax.key"
cp "$key" "$lax"
chmod 644 "$lax"
refused "a key file others can read" "chmod 600 it" --store-key "$lax"

out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/redis-data" \
  --store redis --redis 127.0.0.1:1 --store-key "$key" 2>&1 </dev/null)
code=$?
[[ $code == 2 && "$out" == *"--store-key and --store-old-key encrypt the embedded store"* ]] ||
  fail "--store-key with --store redis: exit $code: $out"
[[ ! -e "$work/redis-data" ]] || fail "--store-key with --store redis created its data directory"
echo "ok: --store-key with --store redis: exit 2: $out"

# Rotation: the new key with the old one, once; then the new key alone.
new="$work/new.key"
head -c 32 /dev/urandom >"$new"
chmod 600 "$new"
utmd_start "$work/out3" "$data" --store-key "$new" --store-old-key "$key"
grep -q "rewritten under the new key" "$work/out3" || fail "no rotation: $(cat "$work/out3")"
utmd_stop
refused "the old key after rotation" "store key: the store was written with key" \
  --store-key "$key"
utmd_start "$work/out4" "$data" --store-key "$new"
port=$utmd_port
"$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" get "$id" >/dev/null ||
  fail "intent $id lost after rotation"
utmd_stop
echo "ok: rotated to a new key; the old key is refused, the new one serves intent $id"
echo "PASS"
