#!/usr/bin/env bash
# End-to-end: a zone with a hole (a control zone with an aerodrome cut out)
# through a real utmd on loopback: `utmctl geofence import` of a GeoJSON
# Polygon with two rings, `utmctl constraint check` inside the hole (not in
# the zone), on its edge and in the ring around it (in the zone), `utmctl
# geofence export` writing the hole back as a second ring; then, when the
# shared sample data is there, a dry run of the Swiss national subset whose
# polygons with holes and of 2,000+ vertices must not be refused for their
# geometry. Usage: utmctl_holes_test.sh UTMD UTMCTL SHARED_DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
DATA=$3/geozones
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

utmd_start "$work/out" "$work/data"
srv=(--server "127.0.0.1:$utmd_port")
reg=$(utmd_token regulator CH-FOCA) || exit 1
pilot=$(utmd_token operator alice) || exit 1

# 0.02° square around (47.31, 8.51) with a 0.004° square hole in its middle.
cat >"$work/ctr.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "ctr",
 "properties": {"type": "PROHIBITED", "name": "CTR less the aerodrome",
   "altitude_lower_m": 0, "altitude_upper_m": 1500, "altitude_reference": "W84"},
 "geometry": {"type": "Polygon", "coordinates": [
   [[8.50, 47.30], [8.52, 47.30], [8.52, 47.32], [8.50, 47.32], [8.50, 47.30]],
   [[8.508, 47.308], [8.508, 47.312], [8.512, 47.312], [8.512, 47.308], [8.508, 47.308]]]}}]}
JSON
out=$("$UTMCTL" geofence import "$work/ctr.geojson" "${srv[@]}" --token "$reg" 2>&1) ||
  fail "import: $out"
[[ "$out" == *"1 imported"* ]] || fail "import said: $out"
echo "ok: a zone with a hole is imported"

check() {  # LAT LNG [RADIUS_M]
  "$UTMCTL" constraint check "${srv[@]}" --token "$pilot" --lat "$1" --lng "$2" \
    --radius-m "${3:-0}" 2>&1
}
out=$(check 47.31 8.51) || fail "check in the hole: $out"
[[ "$out" == *"applicable (0): none"*"nearby within 0 m (0): none"* ]] ||
  fail "check in the hole said: $out"
# 0.002° of longitude from the centre to the hole's east and west edges:
# about 151 m (222 m to the north and south edges).
out=$(check 47.31 8.51 300) || fail "check near: $out"
[[ "$out" == *"applicable (0): none"*"nearby within 300 m (1):"*"PROHIBITED"*": 15"[0-9].*" m away"* ]] ||
  fail "check in the hole, within 300 m, said: $out"
for p in "47.305 8.51" "47.312 8.51" "47.318 8.518"; do
  # shellcheck disable=SC2086
  out=$(check $p) || fail "check $p: $out"
  [[ "$out" == *"applicable (1):"*"PROHIBITED"* ]] || fail "check at $p said: $out"
done
out=$(check 47.33 8.51) || fail "check outside: $out"
[[ "$out" == *"applicable (0): none"* ]] || fail "check outside said: $out"
echo "ok: check inside the hole is outside the zone; on its edge and in the ring, inside"

out=$("$UTMCTL" geofence export --bbox 47.29,8.49,47.33,8.53 --out "$work/export.geojson" \
  "${srv[@]}" --token "$reg" 2>&1) || fail "export: $out"
python3 - "$work/export.geojson" <<'PY' || fail "export: $(cat "$work/export.geojson")"
import json, sys
f = json.load(open(sys.argv[1]))["features"]
assert len(f) == 1, f
rings = f[0]["geometry"]["coordinates"]
assert len(rings) == 2, rings
assert len(rings[1]) == 5 and rings[1][0] == rings[1][-1], rings[1]
assert [8.512, 47.312] in rings[1], rings[1]
PY
out=$("$UTMCTL" geofence import "$work/export.geojson" --dry-run 2>&1) || fail "re-read: $out"
[[ "$out" == *"1 zone(s) in geojson format: 1 valid"* ]] || fail "export reads back: $out"
echo "ok: export writes the hole as a second ring, and it reads back"
utmd_stop

subset=$DATA/ed318/che-swiss-national-subset.json
if [[ ! -f "$subset" ]]; then
  echo "SKIP: shared sample data not found at $subset"
  exit 0
fi
# Zones with holes or 2,000+ vertices, and every zone error of a dry run.
ids=$(python3 - "$subset" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["features"]:
    c = f["geometry"]["coordinates"]
    if f["geometry"]["type"] == "Polygon" and (len(c) > 1 or sum(map(len, c)) >= 2000):
        print(f["properties"]["identifier"])
PY
)
[[ $(wc -l <<<"$ids") == 11 ]] || fail "expected 8 holed and 3 large zones: $ids"
out=$("$UTMCTL" geofence import "$subset" --dry-run --ground-m 500 2>&1)
[[ "$out" == *"47 zone(s) in ed318 format"* ]] || fail "subset dry run: $out"
# A footprint error names features[i].geometry, a ring in it, or a hole (not
# geometry.layer, the altitudes; warnings are not refusals).
for id in $ids; do
  if grep -F "zone $id: " <<<"$out" | grep -v '^warning' |
    grep -Eq 'geometry(: |\.coordinates|\.holes)'; then
    fail "zone $id refused for its geometry: $(grep -F "zone $id: " <<<"$out")"
  fi
done
echo "ok: the Swiss subset's 8 zones with holes and 3 of 2,000+ vertices pass the geometry checks"
