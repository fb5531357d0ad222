#!/usr/bin/env bash
# End-to-end: utmctl's grammar, exit codes and error messages against a real
# utmd on loopback. --version on both binaries; the global options (--server,
# --token, --json) before the family, after it and after the subcommand, and
# $UTM_SERVER; `intent file --start` (now, +DURATION, RFC 3339; a bad value
# is a usage error); `intent get` printing volumes, times and altitudes;
# `intent query --bbox`; `constraint query --bbox` over a whole country
# (1,250 zones, tiled and paged); a GeoJSON field error exits 2 and text that is not
# JSON names line and column (66); a plaintext client against a TLS utmd and
# a TLS client against a plaintext one are told which way the mismatch is.
# Usage: utmctl_client_test.sh UTMD UTMCTL EXAMPLES_DIR
set -u
UTMD=$1 UTMCTL=$2 EXAMPLES=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"
unset UTM_SERVER UTM_TOKEN

out=$("$UTMCTL" --version 2>&1) || fail "utmctl --version: $out"
[[ "$out" =~ ^utmctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "utmctl --version said: $out"
version=${out#utmctl }
out=$("$UTMD" --version 2>&1) || fail "utmd --version: $out"
[[ "$out" == "utmd $version" ]] || fail "utmd --version said: $out (utmctl: $version)"
echo "ok: --version on utmctl and utmd ($version)"

utmd_start "$work/out" "$work/data"
server=127.0.0.1:$utmd_port
alice=$(utmd_token operator alice) || exit 1

# --start: the example (dated 2027) moved to five minutes from now.
out=$("$UTMCTL" intent --server "$server" --token "$alice" file \
  "$EXAMPLES/intent-tip-inside.json" 2>&1); code=$?
[[ $code == 2 && "$out" == *INVALID_ARGUMENT* ]] ||
  fail "the example as dated should be beyond the planning horizon: $code $out"
out=$("$UTMCTL" intent --server "$server" --token "$alice" file \
  "$EXAMPLES/intent-tip-inside.json" --start +5m 2>&1) || fail "--start +5m: $out"
[[ "$out" =~ ^ACCEPTED\ intent\ ([0-9a-f-]+): ]] || fail "--start +5m said: $out"
id=${BASH_REMATCH[1]}
for bad in later +5 5m 2027-01-15; do
  out=$("$UTMCTL" intent --server "$server" --token "$alice" file \
    "$EXAMPLES/intent-tip-outside.json" --start "$bad" 2>&1); code=$?
  [[ $code == 64 && "$out" == *"--start \"$bad\""* ]] || fail "--start $bad: $code $out"
done
echo "ok: intent file --start +5m files a dated example; bad --start values exit 64"

# intent get: volumes, times and altitudes; the start is about 5 min away.
out=$("$UTMCTL" intent --server "$server" --token "$alice" get "$id" 2>&1) || fail "get: $out"
[[ "$out" == *"volumes[0]: polygon of 3 vertices, 500.0 m to 600.0 m above WGS84, from "*" to "* ]] ||
  fail "get does not show the volume: $out"
start=$(sed -n 's/.*volumes\[0\]: .* from \([^ ]*\) to \([^ ]*\)$/\1/p' <<<"$out")
end=$(sed -n 's/.*volumes\[0\]: .* from \([^ ]*\) to \([^ ]*\)$/\2/p' <<<"$out")
lead=$(($(date -u -d "$start" +%s) - $(date -u +%s)))
((lead > 240 && lead <= 300)) || fail "start $start is $lead s away, not about 5 min"
(($(date -u -d "$end" +%s) - $(date -u -d "$start" +%s) == 1800)) ||
  fail "the 30-minute window became $start .. $end"
echo "ok: intent get shows volumes, altitudes and times (shifted, same duration)"

# modify --start: the same plan an hour later.
out=$("$UTMCTL" intent --server "$server" --token "$alice" modify "$id" \
  "$EXAMPLES/intent-tip-inside.json" --version 1 --start "$(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:%M:%SZ)" 2>&1) ||
  fail "modify --start: $out"
[[ "$out" == "ACCEPTED intent $id: ACCEPTED, priority 0, version 2, 1 volume(s)" ]] ||
  fail "modify --start said: $out"
out=$("$UTMCTL" intent --server "$server" --token "$alice" get "$id" 2>&1) || fail "get: $out"
[[ "$out" == *"from $(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:%M:%SZ) to $(date -u -d "$end + 1 hour" +%Y-%m-%dT%H:%M:%SZ)"* ]] ||
  fail "modify --start did not move the plan an hour: $out"
echo "ok: intent modify --start RFC3339"

# Global options in every position, and $UTM_SERVER.
want=$("$UTMCTL" intent --server "$server" --token "$alice" --json get "$id" 2>&1) ||
  fail "get --json: $want"
[[ "$want" == "{"*"\"id\":\"$id\""* ]] || fail "get --json said: $want"
for args in "--json --server $server --token $alice intent get $id" \
  "intent --json get $id --server $server --token $alice" \
  "intent get $id --json --server=$server --token $alice" \
  "--server $server intent get --json --token $alice $id"; do
  # shellcheck disable=SC2086  # split on purpose
  out=$("$UTMCTL" $args 2>&1) || fail "utmctl $args: $out"
  [[ "$out" == "$want" ]] || fail "utmctl $args said: $out"
done
out=$(UTM_SERVER=$server UTM_TOKEN=$alice "$UTMCTL" intent get "$id" --json 2>&1) ||
  fail "UTM_SERVER: $out"
[[ "$out" == "$want" ]] || fail "UTM_SERVER said: $out"
out=$(UTM_SERVER=$server "$UTMCTL" health 2>&1) || fail "UTM_SERVER health: $out"
[[ "$out" == "$server: SERVING" ]] || fail "UTM_SERVER health said: $out"
out=$("$UTMCTL" intent get "$id" --bogus 2>&1); code=$?
[[ $code == 64 ]] || fail "an unknown option: $code $out"
cat >"$work/agl.geojson" <<'JSON'
{"type": "Feature",
 "properties": {"min_altitude": {"meters": 20, "datum": "agl"},
                "max_altitude": {"meters": 120, "datum": "agl"},
                "start_datetime": "2027-01-15T09:00:00Z", "end_datetime": "2027-01-15T09:30:00Z"},
 "geometry": {"type": "Polygon", "coordinates": [[[8.54, 47.37], [8.55, 47.37],
   [8.55, 47.38], [8.54, 47.38], [8.54, 47.37]]]}}
JSON
out=$("$UTMCTL" geo check "$work/agl.geojson" 2>&1); code=$?
[[ $code == 2 && "$out" == *"AGL needs terrain"* ]] || fail "AGL without terrain: $code $out"
for args in "--ground-m 400 --json geo check $work/agl.geojson" \
  "geo --json check $work/agl.geojson --ground-m 400" \
  "geo check --ground-m=400 $work/agl.geojson --json"; do
  # shellcheck disable=SC2086  # split on purpose
  out=$("$UTMCTL" $args 2>&1) || fail "utmctl $args: $out"
  [[ "$out" == "{"*'"valid":true'*"}" && "$out" == *'"volumes":1'* ]] ||
    fail "utmctl $args said: $out"
done
# The same for a zone file: geofence convert (offline) with --ground-m
# before the family, after it, and after the file.
cat >"$work/agl-zone.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [{"type": "Feature",
 "properties": {"name": "agl zone", "altitude_lower_m": 0, "altitude_upper_m": 120,
                "altitude_reference": "AGL"},
 "geometry": {"type": "Polygon", "coordinates": [[[8.54, 47.37], [8.55, 47.37],
   [8.55, 47.38], [8.54, 47.38], [8.54, 47.37]]]}}]}
JSON
out=$("$UTMCTL" geofence convert "$work/agl-zone.geojson" 2>&1); code=$?
[[ $code != 0 && "$out" == *"AGL needs terrain"* ]] || fail "AGL zone without terrain: $code $out"
first=""
for args in "--ground-m 400 geofence convert $work/agl-zone.geojson" \
  "geofence --ground-m 400 convert $work/agl-zone.geojson" \
  "geofence convert $work/agl-zone.geojson --ground-m=400"; do
  # shellcheck disable=SC2086  # split on purpose
  out=$("$UTMCTL" $args 2>&1) || fail "utmctl $args: $out"
  [[ -z "$first" ]] && first=$out
  [[ "$out" == "$first" && "$out" == *"agl zone"* ]] || fail "utmctl $args said: $out"
done
echo "ok: --server/--token/--json/--ground-m before or after the family and its subcommand (geo, geofence); \$UTM_SERVER"

# intent query --bbox (and the area file as before).
out=$("$UTMCTL" intent --server "$server" --token "$alice" query --bbox 47.1,8.5,47.3,8.7 2>&1) ||
  fail "query --bbox: $out"
[[ "$out" == *"intent $id: ACCEPTED, priority 0, 1 volume(s) (yours)"*"1 intent(s) in the area" ]] ||
  fail "query --bbox said: $out"
out=$("$UTMCTL" intent --server "$server" --token "$alice" query --bbox 10,10,10.1,10.1 2>&1) ||
  fail "query --bbox elsewhere: $out"
[[ "$out" == "0 intent(s) in the area" ]] || fail "query elsewhere said: $out"
out=$("$UTMCTL" intent --server "$server" --token "$alice" query 2>&1); code=$?
[[ $code == 64 && "$out" == *"--bbox"* ]] || fail "query without an area: $code $out"
out=$("$UTMCTL" intent --server "$server" --token "$alice" query --bbox 47.3,8.5,47.1,8.7 2>&1); code=$?
[[ $code == 64 && "$out" == *"--bbox"* ]] || fail "an inverted bbox: $code $out"
echo "ok: intent query --bbox"

# A GeoJSON field error is a validation error (2); text that is not JSON
# names line and column (66).
cat >"$work/no-top.geojson" <<'JSON'
{"type": "Feature",
 "properties": {"min_altitude": {"meters": 500, "datum": "w84"},
                "start_datetime": "2027-01-15T09:00:00Z",
                "end_datetime": "2027-01-15T09:30:00Z"},
 "geometry": {"type": "Point", "coordinates": [8.6, 47.2]}}
JSON
out=$("$UTMCTL" intent --server "$server" --token "$alice" file "$work/no-top.geojson" 2>&1); code=$?
[[ $code == 2 && "$out" == *"features[0].properties.radius_m: required"* ]] ||
  fail "a GeoJSON field error: $code $out"
printf '{\n  "volumes": [\n    {"volume": }\n  ]\n}\n' >"$work/broken.json"
out=$("$UTMCTL" intent --server "$server" --token "$alice" file "$work/broken.json" 2>&1); code=$?
[[ $code == 66 && "$out" == *"broken.json:3:16: not JSON: syntax error"* ]] ||
  fail "not JSON: $code $out"
out=$("$UTMCTL" constraint --server "$server" --token "$alice" publish "$work/broken.json" 2>&1); code=$?
[[ $code == 66 && "$out" == *"broken.json:3:16: not JSON: syntax error"* ]] ||
  fail "constraint publish, not JSON: $code $out"
echo "ok: GeoJSON field errors exit 2; unparsable JSON names line:column"

# A country's zones (1,250 small squares over Switzerland) listed with one
# --bbox larger than utmd takes in one query: asked tile by tile, page by
# page, each zone once.
/usr/bin/python3 - "$work/country.geojson" <<'PY' || fail "could not write the zones"
import json, sys
features = []
for i in range(50):
    for j in range(25):
        lat, lng, d = 45.85 + i * 0.04, 5.95 + j * 0.18, 0.005
        features.append({"type": "Feature", "id": "z%d" % len(features),
                         "properties": {"name": "zone %d" % len(features)},
                         "geometry": {"type": "Polygon", "coordinates": [[
                             [lng, lat], [lng + d, lat], [lng + d, lat + d],
                             [lng, lat + d], [lng, lat]]]}})
json.dump({"type": "FeatureCollection", "features": features}, open(sys.argv[1], "w"))
PY
foca=$(utmd_token regulator CH-FOCA) || exit 1
out=$("$UTMCTL" geofence import "$work/country.geojson" --format geojson --altitude-ref wgs84 \
  --lower-m 0 --upper-m 1000 --server "$server" --token "$foca" 2>&1) || fail "import: $out"
[[ "$out" == *"1250 imported"* ]] || fail "import said: $out"
out=$("$UTMCTL" constraint query --bbox 45.8,5.9,47.85,10.5 --page-size 100 \
  --server "$server" --token "$foca" 2>&1) || fail "country query: $out"
[[ "$(tail -1 <<<"$out")" == "1250 constraint(s) in the area" ]] || fail "country query: $(tail -3 <<<"$out")"
[[ $(grep -c '^constraint ' <<<"$out") == 1250 &&
   $(sed -n 's/^constraint \([^:]*\):.*/\1/p' <<<"$out" | sort -u | wc -l) == 1250 ]] ||
  fail "country query: not 1250 distinct lines"
sed -n 's/^constraint \([^:]*\):.*/\1/p' <<<"$out" | LC_ALL=C sort -c || fail "country query: not in id order"
out=$("$UTMCTL" --json constraint query --bbox 45.8,5.9,47.85,10.5 --server "$server" \
  --token "$foca" 2>&1) || fail "country query --json: $out"
[[ $(wc -l <<<"$out") == 1250 ]] || fail "country query --json: $(wc -l <<<"$out") lines"
# 5 rows x 3 columns of zones in a small box: one query, as before.
out=$("$UTMCTL" constraint query --bbox 46.8,7.0,47.0,7.5 --server "$server" --token "$foca" 2>&1) ||
  fail "small query: $out"
[[ "$(tail -1 <<<"$out")" == "15 constraint(s) in the area" ]] || fail "small query: $out"
out=$("$UTMCTL" constraint query --bbox -80,-170,80,170 --server "$server" --token "$foca" 2>&1); code=$?
[[ $code == 64 && "$out" == *"tiles of 1 degrees; at most 2500"* ]] || fail "a world-sized box: $code $out"
out=$("$UTMCTL" constraint query --bbox 46.8,7.0,47.0,7.5 --page-size 0 --server "$server" 2>&1); code=$?
[[ $code == 64 ]] || fail "--page-size 0: $code $out"
echo "ok: constraint query --bbox over a country lists its 1,250 zones (tiled, paged, once each, in id order)"

# TLS one way, plaintext the other.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  >/dev/null 2>&1 || fail "openssl could not make a test certificate"
out=$("$UTMCTL" health --server "$server" --tls-ca "$work/cert.pem" --timeout 2 2>&1); code=$?
[[ $code == 69 && "$out" == *"the server does not speak TLS: drop --tls-ca"* ]] ||
  fail "TLS client, plaintext server: $code $out"
out=$("$UTMCTL" intent --server "$server" --tls-ca "$work/cert.pem" --token "$alice" get "$id" 2>&1); code=$?
[[ $code == 69 && "$out" == *"the server does not speak TLS: drop --tls-ca"* ]] ||
  fail "TLS intent get, plaintext server: $code $out"
utmd_stop
utmd_start "$work/tls-out" "$work/tls-data" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
out=$("$UTMCTL" health --server "localhost:$utmd_port" --timeout 2 2>&1); code=$?
[[ $code == 69 && "$out" == *"the server speaks TLS: add --tls-ca"* ]] ||
  fail "plaintext client, TLS server: $code $out"
tls_alice=$(utmd_token operator alice) || exit 1
out=$("$UTMCTL" intent --server "localhost:$utmd_port" --token "$tls_alice" get "$id" 2>&1); code=$?
[[ $code == 69 && "$out" == *"the server speaks TLS: add --tls-ca"* ]] ||
  fail "plaintext intent get, TLS server: $code $out"
out=$("$UTMCTL" health --server "localhost:$utmd_port" --tls-ca "$work/cert.pem" 2>&1) ||
  fail "TLS health: $out"
[[ "$out" != *"speak TLS"* ]] || fail "a working TLS call got a hint: $out"
utmd_stop
echo "ok: a TLS/plaintext mismatch is named, both ways"
