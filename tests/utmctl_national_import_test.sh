#!/usr/bin/env bash
# End-to-end: a national-scale zone set through `utmctl geofence import`
# against a real utmd, then a restart of that utmd. The set is generated
# (utmzones, seeded: 1,200 zones with large polygons, all-day and weekly
# schedules, AGL and AMSL limits, and a few malformed zones); every zone
# must be accounted for (imported, or refused for the defect the manifest
# states), and the restarted server must hold exactly the imported ones.
# When the shared sample data is present, the Swiss national subset is
# imported too: no zone of it may be refused.
# Prints the import and restart times (measurements, not checks).
# Usage: utmctl_national_import_test.sh UTMD UTMCTL UTMZONES SHARED_DATA_DIR
set -u
UTMD=$1
UTMCTL=$2
UTMZONES=$3
DATA=$4/geozones
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"
ZONES=${UTM_NATIONAL_ZONES:-1200}
SEED=${UTM_NATIONAL_SEED:-1}

"$UTMZONES" --zones "$ZONES" --seed "$SEED" --manifest "$work/manifest.jsonl" \
  >"$work/national.json" || fail "utmzones"
echo "generated $ZONES zones (seed $SEED), $(($(wc -c <"$work/national.json") / 1024)) KiB"

utmd_start "$work/out" "$work/data"
regulator=$(utmd_token regulator foca) || exit 1
srv=(--server "127.0.0.1:$utmd_port")

start=$(date +%s%N)
"$UTMCTL" geofence --json import "$work/national.json" "${srv[@]}" \
  --token "$regulator" --ground-m 500 >"$work/summary.json" 2>"$work/import.err"
code=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
# Exit 7: some zones failed (the malformed ones); anything else is wrong.
[[ $code == 7 ]] || fail "import exited $code: $(tail -5 "$work/import.err")"
imported=$(python3 - "$work/summary.json" "$work/manifest.jsonl" <<'PY'
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith('{')][-1])
manifest = [json.loads(l) for l in open(sys.argv[2])]
zones = len(manifest)
assert s["zones"] == zones, (s["zones"], zones)
# Counts add up: every zone is imported, or failed (refused by the importer
# or the server); none is expired or already there on a fresh server.
assert s["expired"] == 0 and s["already_present"] == 0 and s["updated"] == 0, s
assert s["imported"] + s["failed"] == zones, (s["imported"], s["failed"], zones)
assert not s["server_errors"], s["server_errors"][:3]
errors = {}
for e in s["errors"]:
    errors.setdefault(e["zone_id"], []).append(e["field"] + ": " + e["message"])
assert len(errors) == s["failed"], (len(errors), s["failed"])
reasons = {"crossing_edges": "edges 0 and 2 cross",
           "sunrise": "daylight events"}
for z in manifest:
    got = errors.get(z["id"])
    if z["defect"] in reasons:
        assert got and all(reasons[z["defect"]] in m for m in got), (z, got)
    else:  # large polygons (up to 4,700 vertices) included
        assert got is None, (z, got)
for messages in errors.values():
    for m in messages:
        assert "limitedApplicability" not in m or "daylight events" in m, m
print(s["imported"])
PY
) || fail "accounting: $imported"
echo "ok: $ZONES zones accounted for, $imported imported in ${elapsed_ms} ms (utmctl geofence import, fsync on)"

# Restart: the same store, every imported zone back.
utmd_stop
utmd_start "$work/out2" "$work/data"
line=$(grep -m1 '^utmd: recovered' "$utmd_out") || fail "no recovery line: $(cat "$utmd_out")"
# The line groups thousands with commas (1,186).
[[ "${line//,/}" == *" and $imported constraints "* ]] || fail "restart: $line (expected $imported constraints)"
echo "ok: restart: ${line#utmd: }"
srv=(--server "127.0.0.1:$utmd_port")
regulator=$(utmd_token regulator foca) || exit 1
# A re-run finds every zone already there: nothing was lost or changed.
"$UTMCTL" geofence --json import "$work/national.json" "${srv[@]}" \
  --token "$regulator" --ground-m 500 >"$work/again.json" 2>/dev/null
python3 - "$work/again.json" "$imported" <<'PY' || fail "re-import after restart: $(tail -c 600 "$work/again.json")"
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith('{')][-1])
assert s["already_present"] == int(sys.argv[2]) and s["imported"] == 0 and s["updated"] == 0, s
PY
echo "ok: after the restart a re-import finds all $imported zones unchanged"
utmd_stop

if [[ ! -f "$DATA/ed318/che-swiss-national-subset.json" ]]; then
  echo "SKIP: shared sample data not found at $DATA (Swiss national subset)"
  exit 0
fi
utmd_start "$work/out3" "$work/data3"
regulator=$(utmd_token regulator foca) || exit 1
srv=(--server "127.0.0.1:$utmd_port")
"$UTMCTL" geofence --json import "$DATA/ed318/che-swiss-national-subset.json" \
  "${srv[@]}" --token "$regulator" --ground-m 500 >"$work/swiss.json" 2>/dev/null
python3 - "$work/swiss.json" <<'PY' || fail "Swiss subset: $(tail -c 800 "$work/swiss.json")"
import json, sys
s = json.loads([l for l in open(sys.argv[1]) if l.startswith('{')][-1])
assert s["zones"] == 47, s["zones"]
assert s["imported"] + s["expired"] + s["failed"] == 47, s
# Zones whose dates have passed are skipped, not refused.
assert len(s["server_errors"]) == s["expired"], s["server_errors"][:3]
assert all("expired" in e for e in s["server_errors"]), s["server_errors"][:3]
# Nothing is refused: not the all-day schedules, not the polygons with holes
# or of thousands of vertices.
assert s["failed"] == 0 and not s["errors"], s["errors"][:3]
print("ok: Swiss national subset: %d imported, %d expired, none refused"
      % (s["imported"], s["expired"]))
PY
utmd_stop
