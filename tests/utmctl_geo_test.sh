#!/usr/bin/env bash
# End-to-end: the utmctl binary on the example files — exit codes and output.
# Usage: utmctl_geo_test.sh UTMCTL EXAMPLES_DIR [SHARED_DATA_DIR]
set -u
UTMCTL=$1
EX=$2
SHARED=${3:-}
fail=0
check() {  # check WANT_CODE WANT_SUBSTRING ARGS...
  local want=$1 pattern=$2; shift 2
  local out code
  out=$("$UTMCTL" "$@" 2>&1); code=$?
  if [[ $code != "$want" ]] || [[ "$out" != *"$pattern"* ]]; then
    echo "FAIL: utmctl $* -> exit $code, output: $out (wanted exit $want and '$pattern')"
    fail=1
  else
    echo "ok: utmctl $*"
  fi
}
check 0 "1 volume(s), valid" geo check "$EX/area-45km.json"
check 2 "volumes[1].volume.outline_polygon: edges 0 and 2 cross" geo check "$EX/intent-bow-tie.json"
check 64 "File does not exist" geo check /dev/null/missing.json
check 1 "CONFLICT" geo intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"
check 0 "no conflict" geo intersect "$EX/area-45km.json" "$EX/intent-tip-outside.json"
check 1 '"volume_index":0' geo --json intersect "$EX/area-45km.json" "$EX/intent-tip-inside.json"
check 64 "" geo frobnicate
tmp=$(mktemp); echo '{"volumes": [{"nope": 1}]}' > "$tmp"
check 66 "neither a utm.v1 volume file nor GeoJSON" geo check "$tmp"
rm -f "$tmp"

# GeoJSON input: a Point with a radius, closed polygon rings, AGL and AMSL
# altitudes (--ground-m: the ground above mean sea level; AMSL: EGM96).
cat >"$tmp" <<'JSON'
{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"radius_m": 150,
   "min_altitude": {"meters": 20, "datum": "agl"}, "max_altitude": {"meters": 120, "datum": "agl"},
   "start_datetime": "2027-01-15T09:00:00Z", "end_datetime": "2027-01-15T09:30:00Z"},
  "geometry": {"type": "Point", "coordinates": [8.5417, 47.3769]}},
 {"type": "Feature", "properties": {
   "min_altitude": {"meters": 500, "datum": "w84"}, "max_altitude": {"meters": 600, "datum": "w84"},
   "start_time": "2027-01-15T09:00:00Z", "end_time": "2027-01-15T09:30:00Z"},
  "geometry": {"type": "Polygon", "coordinates": [[[8.54, 47.37], [8.55, 47.37], [8.55, 47.38], [8.54, 47.37]]]}}]}
JSON
check 2 "features[0].properties.min_altitude: AGL needs terrain: no terrain source: pass --dem FILE.tif or --ground-m M" geo check "$tmp"
check 0 "2 volume(s), valid" geo --ground-m 450 check "$tmp"
check 64 "excludes" geo --ground-m 450 --dem "$tmp" check "$tmp"
# 500 m AMSL is ~548 m above WGS84 at Zurich (EGM96 ~ +48 m): above the
# 600 m W84 top once 60 m more are asked for.
sed -i 's/"datum": "w84"}, "max_altitude": {"meters": 600, "datum": "w84"}/"datum": "amsl"}, "max_altitude": {"meters": 600, "datum": "w84"}/' "$tmp"
check 0 "2 volume(s), valid" geo --ground-m 450 check "$tmp"
sed -i 's/"meters": 500, "datum": "amsl"/"meters": 560, "datum": "amsl"/' "$tmp"
check 2 "features[1]" geo --ground-m 450 check "$tmp"
check 0 "2 volume(s), valid" geo --ground-m 450 --geoid-m 0 check "$tmp"
rm -f "$tmp"

# Real flight declarations (openutm Flight Blender), when the shared data is there.
DECL="$SHARED/declarations"
if [[ -n "$SHARED" && -d "$DECL" ]]; then
  check 2 "features[0].volume.altitude_lower: (700.4 m) must be below altitude_upper (600.4 m)" \
    geo check "$DECL/flight-1-bern.json"
  check 2 "AGL needs terrain" geo check "$DECL/flight-2.json"
  check 0 "1 volume(s), valid" geo --ground-m 1400 check "$DECL/flight-2.json"
else
  echo "skip: shared sample data not found at '$SHARED' (flight declarations not checked)"
fi
exit $fail
