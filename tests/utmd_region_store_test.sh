#!/usr/bin/env bash
# End-to-end data residency of the store: a real utmd started with
# --region EU-CH files an intent and publishes a constraint, each stored
# with its region; restarted over the same data directory as another region
# (EU-DE) or without --region, utmd refuses to start (exit 1, one line naming
# the store, the record and both regions) and the store's files are
# unchanged (checksums; LOCK aside, which names the last process to open it); as EU-CH it starts. A store written without a
# region is accepted by an EU-CH deployment when its intents lie inside the
# boundary, and refused the same way when one lies outside.
# Usage: utmd_region_store_test.sh UTMD UTMCTL DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
DATA=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

boundary="$DATA/region-eu-ch.geojson"
eu_ch=(--region EU-CH --region-boundary "$boundary")

sums() {  # sums DIR: a checksum of every file under DIR but LOCK, with its name
  # (LOCK names the last process that opened the store: it is rewritten by
  # every start, the refused ones too.)
  (cd "$1" && find . -type f ! -name LOCK -print0 | sort -z | xargs -0 sha256sum)
}
# refused WHAT DATA_DIR EXPECTED UTMD_FLAGS...: utmd over DATA_DIR exits 1
# saying EXPECTED, and DATA_DIR/store is unchanged.
refused() {
  local what=$1 dir=$2 expected=$3 before out code
  shift 3
  before=$(sums "$dir/store")
  out=$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$dir" "$@" 2>&1 </dev/null)
  code=$?
  printf '%s\n' "$out" >"$work/refused.out"
  [[ $code == 1 && "$out" == *"$expected"* ]] || fail "$what: exit $code: $out"
  [[ $(grep -c 'holds \(intent\|constraint\|registration\|operator settings\)' <<<"$out") == 1 ]] ||
    fail "$what: not one line naming the record: $out"
  [[ "$(sums "$dir/store")" == "$before" ]] || fail "$what: the store's files changed"
  echo "ok: $what: exit 1, store unchanged: $(grep -m1 'holds' <<<"$out")"
}

# --- a store written by the EU-CH deployment -------------------------------
a="$work/a"
utmd_start "$work/a.out" "$a" "${eu_ch[@]}"
alice=$(utmd_token operator alice) || exit 1
circle_intent "$work/in.json" 47.4 8.3
id=$(filed_id "$alice" "$work/in.json") || exit 1
[[ -n "$id" ]] || fail "no intent id"
utmd_stop
echo "ok: EU-CH filed intent $id"

refused "EU-DE over EU-CH's store" "$a" \
  "store $a/store holds intent $id of region EU-CH; this deployment serves region EU-DE" \
  --region EU-DE --region-boundary "$boundary"
refused "no --region over EU-CH's store" "$a" \
  "store $a/store holds intent $id of region EU-CH; this deployment serves no region" 

utmd_start "$work/a2.out" "$a" "${eu_ch[@]}"
out=$("$UTMCTL" intent --server "127.0.0.1:$utmd_port" --token "$alice" get "$id" 2>&1) ||
  fail "get $id after the restart: $out"
utmd_stop
echo "ok: EU-CH starts over its own store and still has $id"

# A constraint alone names its region too.
c="$work/c"
utmd_start "$work/c.out" "$c" "${eu_ch[@]}"
reg=$("$UTMCTL" token --role regulator --sub ch-foca --data-dir "$c") || fail "token"
end=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/zone.json" <<JSON
{"type": "CONSTRAINT_TYPE_PROHIBITED", "reason": "residency-store-test", "messageForPilots": "keep out",
 "authority": {"name": "test authority"},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": 47.6, "lngDeg": 8.9}, "radiusM": 300},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 1500, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$end"}]}
JSON
out=$("$UTMCTL" constraint --server "127.0.0.1:$utmd_port" --token "$reg" publish "$work/zone.json" 2>&1) ||
  fail "publish: $out"
utmd_stop
refused "EU-DE over a store holding an EU-CH constraint" "$c" \
  "of region EU-CH; this deployment serves region EU-DE" \
  --region EU-DE --region-boundary "$boundary"
grep -q "holds constraint" <<<"$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$c" \
  --region EU-DE --region-boundary "$boundary" 2>&1 </dev/null)" ||
  fail "the refusal does not name the constraint"

# A registration, and an operator's data settings, alone name it too.
r="$work/r"
utmd_start "$work/r.out" "$r" "${eu_ch[@]}"
caa=$(utmd_token regulator ch-caa) || exit 1
out=$("$UTMCTL" registry --server "127.0.0.1:$utmd_port" --token "$caa" register 1596A4JPN5R7B10 \
  --mass-g 900 --operator dave --operator-registration CHE1234 2>&1) || fail "register: $out"
utmd_stop
refused "EU-DE over a store holding an EU-CH registration" "$r" \
  "store $r/store holds registration 1596A4JPN5R7B10 of region EU-CH; this deployment serves region EU-DE" \
  --region EU-DE --region-boundary "$boundary"
s="$work/s"
utmd_start "$work/s.out" "$s" "${eu_ch[@]}"
erin=$(utmd_token operator erin) || exit 1
out=$("$UTMCTL" operator --server "127.0.0.1:$utmd_port" --token "$erin" settings \
  --flight-log-retention 7d 2>&1) || fail "settings: $out"
utmd_stop
refused "no --region over a store holding EU-CH operator settings" "$s" \
  "of region EU-CH; this deployment serves no region" 
grep -q "holds operator settings" "$work/refused.out" ||
  fail "the refusal does not name the operator settings"

# --- stores written without a region -----------------------------------------
p="$work/plain"
utmd_start "$work/p.out" "$p"
bob=$(utmd_token operator bob) || exit 1
filed_id "$bob" "$work/in.json" >/dev/null || exit 1
utmd_stop
utmd_start "$work/p2.out" "$p" "${eu_ch[@]}"
utmd_stop
echo "ok: EU-CH starts over a store without regions whose intents lie inside"

q="$work/outside"
utmd_start "$work/q.out" "$q"
carol=$(utmd_token operator carol) || exit 1
circle_intent "$work/out.json" 48.5 8.5
qid=$(filed_id "$carol" "$work/out.json") || exit 1
utmd_stop
refused "EU-CH over a store without regions holding an intent outside" "$q" \
  "store $q/store holds intent $qid, written without a region, whose volumes[0] lies outside region EU-CH" \
  "${eu_ch[@]}"
utmd_start "$work/q2.out" "$q"
utmd_stop
echo "ok: without --region, a store without regions starts as before"
