#!/usr/bin/env bash
# End-to-end data residency: utmd started with --region EU-CH and a
# GeoJSON boundary (tests/data/region-eu-ch.geojson, a quadrilateral with a
# hole) accepts intents and constraints inside it, refuses with
# FAILED_PRECONDITION naming the region those outside it, straddling its
# edge or in its hole, and writes from tokens of another home region
# (utmctl token --home-region); nothing of a refused write reaches the
# store's files. Start-up: one flag without the other, a bad region code
# and a self-crossing boundary exit 2 with the message; without either flag
# utmd says it serves everywhere.
# Usage: utmd_region_test.sh UTMD UTMCTL DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
DATA=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

boundary="$DATA/region-eu-ch.geojson"

# --- start-up -----------------------------------------------------------
startup_refused() {  # startup_refused WHAT EXPECTED_FRAGMENT UTMD_FLAGS...
  local what=$1 expected=$2 out code
  shift 2
  out=$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/refused" "$@" 2>&1 </dev/null)
  code=$?
  [[ $code == 2 && "$out" == *"$expected"* ]] || fail "$what: exit $code: $out"
  echo "ok: $what: exit 2: $(echo "$out" | grep -m1 utmd:)"
}
startup_refused "--region alone" "--region and --region-boundary go together" --region EU-CH
startup_refused "--region-boundary alone" "--region and --region-boundary go together" \
  --region-boundary "$boundary"
startup_refused "a bad region code" '--region "eu-ch" is not a region code' \
  --region eu-ch --region-boundary "$boundary"
startup_refused "a self-crossing boundary" \
  "region-bow-tie.geojson: polygon 0 ring 0: edges 0 and 2 cross" \
  --region EU-CH --region-boundary "$DATA/region-bow-tie.geojson"
startup_refused "a missing boundary file" "cannot read $work/none.json" \
  --region EU-CH --region-boundary "$work/none.json"
echo '{"type": "Polygon", "coordinates": [[[8, 47], [9, 47], [9, 48], [8, 47.5]]]}' \
  >"$work/open.json"
startup_refused "a ring that does not close" "open.json: coordinates[0]: the ring does not close" \
  --region EU-CH --region-boundary "$work/open.json"

utmd_start "$work/plain.out" "$work/plain"
grep -q "no --region: serving everywhere" "$work/plain.out" ||
  fail "no word of serving everywhere: $(cat "$work/plain.out")"
utmd_stop
echo "ok: without --region utmd says it serves everywhere"

# --- writes ---------------------------------------------------------------
data="$work/data"
utmd_start "$work/out" "$data" --region EU-CH --region-boundary "$boundary"
grep -q "serving region EU-CH (1 polygon(s), 8 vertices" "$work/out" ||
  fail "no region line: $(cat "$work/out")"
intent() { "$UTMCTL" intent --server "127.0.0.1:$utmd_port" "$@"; }
ctl() { "$UTMCTL" constraint --server "127.0.0.1:$utmd_port" "$@"; }
registry() { "$UTMCTL" registry --server "127.0.0.1:$utmd_port" "$@"; }
mint() {  # mint ROLE SUB [HOME_REGION]
  "$UTMCTL" token --role "$1" --sub "$2" --data-dir "$data" ${3:+--home-region "$3"} ||
    fail "token $*"
}
alice=$(mint operator alice EU-CH) || exit 1
bob=$(mint operator bob) || exit 1           # no home region: accepted
mallory=$(mint operator mallory US-CA) || exit 1
reg=$(mint regulator CH-FOCA EU-CH) || exit 1
reg_us=$(mint regulator US-FAA US-CA) || exit 1
out=$("$UTMCTL" token --role operator --sub x --data-dir "$data" --home-region us-ca 2>&1)
[[ $? == 64 && "$out" == *'token --home-region "us-ca" is not a region code'* ]] ||
  fail "token --home-region us-ca: $out"
echo "ok: utmctl token refuses a malformed --home-region"

t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+3 hour' +%Y-%m-%dT%H:%M:%SZ)
volume() {  # volume LAT LNG RADIUS_M
  echo "{\"volume\": {\"outlineCircle\": {\"center\": {\"latDeg\": $1, \"lngDeg\": $2}, \"radiusM\": $3},
    \"altitudeLower\": {\"valueM\": 500, \"reference\": \"ALTITUDE_REFERENCE_W84\"},
    \"altitudeUpper\": {\"valueM\": 620, \"reference\": \"ALTITUDE_REFERENCE_W84\"}},
    \"timeStart\": \"$t0\", \"timeEnd\": \"$t1\"}"
}
intent_file() {  # intent_file FILE VOLUME_JSON...
  local f=$1
  shift
  local IFS=,
  echo "{\"priority\": 0, \"volumes\": [$*]}" >"$f"
}
intent_file "$work/in.json" "$(volume 47.4 8.3 100)" "$(volume 47.5 8.4 200)"
intent_file "$work/out.json" "$(volume 47.4 8.3 100)" "$(volume 47.5 8.4 200)" \
  "$(volume 48.5 8.5 100)"
intent_file "$work/edge.json" "$(volume 47.4 8.001 200)"   # across lng 8
intent_file "$work/hole.json" "$(volume 47.15 8.7 100)"   # in the hole

refused() {  # refused WHAT EXPECTED OUT CODE
  [[ $4 == 6 && "$3" == *FAILED_PRECONDITION* && "$3" == *"$2"* ]] ||
    fail "$1: exit $4: $3"
  echo "ok: $1 refused: $(echo "$3" | grep -m1 FAILED_PRECONDITION)"
}
out=$(intent --token "$alice" file "$work/out.json" --request-id outside-req 2>&1)
refused "an intent with volumes[2] outside" \
  "volumes[2] lies outside region EU-CH (deployment boundary)" "$out" $?
out=$(intent --token "$alice" file "$work/edge.json" 2>&1)
refused "an intent straddling the boundary" "volumes[0] lies outside region EU-CH" "$out" $?
out=$(intent --token "$alice" file "$work/hole.json" 2>&1)
refused "an intent in the boundary's hole" "volumes[0] lies outside region EU-CH" "$out" $?
out=$(intent --token "$mallory" file "$work/in.json" --request-id mallory-req 2>&1)
refused "an intent from a US-CA token" \
  "operator home region US-CA differs from this deployment's region EU-CH; use the US-CA region's endpoint" \
  "$out" $?

out=$(intent --token "$alice" file "$work/in.json" 2>&1) || fail "file inside: $out"
id=$(echo "$out" | sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p')
[[ -n "$id" ]] || fail "no intent id in: $out"
echo "ok: alice's (EU-CH) intent inside the region accepted: $id"
out=$(intent --token "$bob" file "$work/in.json" 2>&1)
[[ "$out" == *"ACCEPTED intent"* || "$out" == *"CONFLICT"* || "$out" == *"REJECTED"* ]] ||
  fail "bob (no home region) inside: $out"
[[ "$out" != *FAILED_PRECONDITION* ]] || fail "bob (no home region) refused: $out"
echo "ok: a token without home_region is accepted"
# Modify to a volume outside: refused, the intent keeps its volumes.
intent_file "$work/modify-out.json" "$(volume 46.5 8.5 100)"
out=$(intent --token "$alice" modify "$id" "$work/modify-out.json" --version 1 2>&1)
refused "a modification moving the intent outside" \
  "volumes[0] lies outside region EU-CH" "$out" $?

constraint_file() {  # constraint_file FILE LAT LNG
  cat >"$1" <<JSON
{"type": "CONSTRAINT_TYPE_PROHIBITED", "reason": "residency-test-$2", "messageForPilots": "keep out",
 "authority": {"name": "test authority"},
 "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $2, "lngDeg": $3}, "radiusM": 300},
   "altitudeLower": {"valueM": 0, "reference": "ALTITUDE_REFERENCE_W84"},
   "altitudeUpper": {"valueM": 1500, "reference": "ALTITUDE_REFERENCE_W84"}},
   "timeEnd": "$end"}]}
JSON
}
constraint_file "$work/c-in.json" 47.6 8.9
constraint_file "$work/c-out.json" 45.6 8.9
out=$(ctl --token "$reg" publish "$work/c-out.json" 2>&1)
refused "a constraint outside" \
  "constraint.volumes[0] lies outside region EU-CH (deployment boundary)" "$out" $?
out=$(ctl --token "$reg_us" publish "$work/c-in.json" 2>&1)
refused "a constraint from a US-CA regulator" "operator home region US-CA differs" "$out" $?
out=$(ctl --token "$reg" publish "$work/c-in.json" 2>&1) || fail "publish inside: $out"
[[ "$out" == *"PUBLISHED constraint"* ]] || fail "publish inside said: $out"
echo "ok: a constraint inside the region published"

out=$(registry --token "$reg_us" register 1596A4JPN5R7B77 --mass-g 900 --operator mallory \
  --operator-registration FA3A7CX9KL 2>&1)
refused "a registration by a US-CA registrar" "operator home region US-CA differs" "$out" $?
out=$(registry --token "$reg" register 1596A4JPN5R7B10 --mass-g 900 --operator alice \
  --operator-registration FA3A7CX9KL 2>&1) ||
  fail "register: $out"
echo "ok: a registration by an EU-CH registrar accepted"
utmd_stop

# Nothing of a refused write is in the store's files; what was accepted is.
grep -rqaF -- "$id" "$data/store" || fail "the accepted intent $id is not in the store"
for needle in outside-req mallory-req residency-test-45.6 1596A4JPN5R7B77 mallory; do
  if grep -rqaF -- "$needle" "$data/store"; then
    fail "\"$needle\" of a refused write found under $data/store"
  fi
done
echo "ok: nothing of a refused write reached the store"
