#!/usr/bin/env bash
# End-to-end: a real utmd and utmctl. An operator files and activates an
# intent, flies it with `utmctl telemetry fly`, ends it; `utmctl flight list`
# shows the flight and `flight log` exports it as GeoJSON, CSV and KML, each
# holding every reported point; another operator cannot see it; a restart
# keeps it; with --store memory utmd keeps no flight logs.
# Usage: utmctl_flight_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
PY=/usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

start=$(date -u -d "-1 minutes" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "+30 minutes" +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/intent.json" <<EOF
{"priority": 0, "volumes": [{"volume": {
  "outlineCircle": {"center": {"latDeg": 47.3769, "lngDeg": 8.5417}, "radiusM": 500},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$start", "timeEnd": "$end"}]}
EOF

# ctl TOKEN ARGS...: runs utmctl against utmd as TOKEN; output in $out,
# exit code in $code.
ctl() {
  local token=$1
  shift
  out=$("$UTMCTL" "$1" --server "127.0.0.1:$utmd_port" --token "$token" "${@:2}" 2>&1)
  code=$?
}

utmd_start "$work/out" "$work/data"
alice=$(utmd_token operator alice) || exit 1
bob=$(utmd_token operator bob) || exit 1

ctl "$alice" intent file "$work/intent.json"
[[ $code == 0 ]] || fail "file: $out"
intent=$(sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p' <<<"$out")
ctl "$alice" intent activate "$intent" --version 1
[[ $code == 0 ]] || fail "activate: $out"
ctl "$alice" telemetry fly --aircraft drone-1 --intent "$intent" \
  --from 47.3769,8.5417,550 --velocity 5,0,0 --duration-s 3 --rate-hz 10
[[ $code == 0 ]] || fail "fly: $code $out"
sent=$(sed -n 's/^fly: \([0-9]*\) report(s) sent.*/\1/p' <<<"$out")
[[ -n "$sent" && $sent -ge 20 ]] || fail "fly sent too few: $out"
ctl "$alice" intent end "$intent" --version 2
[[ $code == 0 ]] || fail "end: $out"

ctl "$alice" flight list
[[ $code == 0 && "$out" == *"1 flight(s)"* ]] || fail "list: $code $out"
line=$(head -1 <<<"$out")
flight=${line%% *}
[[ "$line" == "$flight drone-1 intent $intent "*" $sent points" ]] ||
  fail "list line: $line (sent $sent)"
echo "ok: the flight is listed with its $sent points"

# export FORMAT: the log into $work/flight.FORMAT.
export_log() {
  ctl "$alice" flight log "$flight" --format "$1" --out "$work/flight.$1"
  [[ $code == 0 ]] || fail "log --format $1: $code $out"
}
check_geojson() {
  "$PY" - "$work/flight.geojson" "$1" <<'EOF' || fail "geojson: $(head -c 600 "$work/flight.geojson")"
import json, sys
doc = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert doc["type"] == "FeatureCollection", doc["type"]
f = doc["features"][0]
coords = f["geometry"]["coordinates"]
assert f["geometry"]["type"] == "LineString"
assert len(coords) == n, (len(coords), n)
assert len(f["properties"]["coordTimes"]) == n
for lng, lat, alt in coords:
    assert abs(lat - 47.3769) < 0.001 and abs(lng - 8.5417) < 0.001, (lat, lng)
    assert abs(alt - 550) < 1, alt
lats = [c[1] for c in coords]
assert lats == sorted(lats), "northbound"
states = [s["state"] for s in f["properties"]["states"]]
assert states == ["activated", "ended"], states
EOF
}
export_log geojson
check_geojson "$sent"
export_log csv
rows=$(($(wc -l <"$work/flight.csv") - 1))
[[ "$(head -1 "$work/flight.csv")" == "time,lat,lng,alt_m,north_mps,east_mps,up_mps,h_accuracy_m,v_accuracy_m" ]] ||
  fail "csv header: $(head -1 "$work/flight.csv")"
[[ $rows == "$sent" ]] || fail "csv has $rows rows, $sent sent"
[[ "$(sed -n 2p "$work/flight.csv")" =~ ^20[0-9-]+T[0-9:.]+Z,47\.37[0-9]+,8\.54[0-9]+,55[0-9.]+,5\.00,-?0\.00,-?0\.00,3\.0,5\.0$ ]] ||
  fail "csv row: $(sed -n 2p "$work/flight.csv")"
export_log kml
"$PY" - "$work/flight.kml" "$sent" <<'EOF' || fail "kml: $(head -c 600 "$work/flight.kml")"
import sys, xml.etree.ElementTree as ET
ns = {"k": "http://www.opengis.net/kml/2.2", "gx": "http://www.google.com/kml/ext/2.2"}
track = ET.parse(sys.argv[1]).getroot().find("k:Document/k:Placemark/gx:Track", ns)
n = int(sys.argv[2])
assert len(track.findall("k:when", ns)) == n
assert len(track.findall("gx:coord", ns)) == n
EOF
echo "ok: flight log exported as GeoJSON, CSV and KML with every point"

ctl "$bob" flight log "$flight"
[[ $code == 5 && "$out" == *"NOT_FOUND: flight_id: no flight $flight of yours"* ]] ||
  fail "bob reads alice's log: $code $out"
ctl "$bob" flight list
[[ $code == 0 && "$out" == "0 flight(s)" ]] || fail "bob's list: $out"
echo "ok: another operator neither lists nor reads it"

utmd_stop
utmd_start "$work/out2" "$work/data"
ctl "$alice" flight list
[[ $code == 0 && "$(head -1 <<<"$out")" == "$line" ]] || fail "after restart: $out"
export_log geojson
check_geojson "$sent"
echo "ok: a restart keeps the flight log"
utmd_stop

utmd_start "$work/out3" "$work/memory" --store memory
ctl "$(utmd_token operator alice)" flight list
[[ $code == 70 && "$out" == *"UNIMPLEMENTED"*"keeps no flight logs"* ]] ||
  fail "--store memory: $code $out"
echo "ok: with --store memory no flight logs are kept"
utmd_stop
