#!/usr/bin/env bash
# End-to-end safety of utmd's data directory: a second utmd on the same
# directory refuses to start; a damaged store refuses to start with DATA_LOSS
# and is left as it was; --salvage keeps the damaged files aside and serves
# the valid prefix; a store whose disk fails turns health NOT_SERVING for
# the services that write (telemetry stays SERVING).
# Usage: utmd_store_safety_test.sh UTMD UTMCTL
set -u
UTMD=$1
UTMCTL=$2
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

data="$work/data"
utmd_start "$work/out" "$data"
port=$utmd_port
alice=$(utmd_token operator alice) || exit 1

# 1. One data directory, one utmd.
out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$data" 2>&1 </dev/null); code=$?
[[ $code != 0 && "$out" == *"in use by another process (pid $utmd_pid"* ]] ||
  fail "second utmd on $data: exit $code: $out"
echo "ok: a second utmd on the same data directory refuses: $out"

# 2. Twenty acknowledged intents, 1.1 km apart so none conflicts.
t0=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
t1=$(date -u -d '+40 min' +%Y-%m-%dT%H:%M:%SZ)
file_intent() {  # file_intent N: prints the intent id
  cat >"$work/intent-$1.json" <<JSON
{"priority": 0, "volumes": [{"volume": {"outlineCircle": {"center": {"latDeg": $(printf '%d.%02d' $((47 + $1 / 100)) $(($1 % 100))), "lngDeg": 8.5}, "radiusM": 100},
  "altitudeLower": {"valueM": 500, "reference": "ALTITUDE_REFERENCE_W84"},
  "altitudeUpper": {"valueM": 620, "reference": "ALTITUDE_REFERENCE_W84"}},
  "timeStart": "$t0", "timeEnd": "$t1"}]}
JSON
  local out
  out=$("$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" file "$work/intent-$1.json") ||
    fail "file $1: $out"
  echo "$out" | sed -n 's/^ACCEPTED intent \([^:]*\):.*/\1/p'
}
ids=()
for n in $(seq 1 20); do ids+=("$(file_intent "$n")") || exit 1; done
utmd_stop
echo "ok: 20 intents filed and utmd stopped cleanly"

# 3. A byte flipped in the middle of the log: refused, nothing changed.
log=$(ls "$data"/store/log-*)
size=$(stat -c %s "$log")
printf '\xff' | dd of="$log" bs=1 seek=$((size / 2)) conv=notrunc status=none
store_digest() {  # every file of the store but LOCK (which holds a pid)
  find "$data/store" -type f ! -name LOCK -exec sha256sum {} + | sort
}
before=$(store_digest)
out=$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$data" 2>&1 </dev/null); code=$?
[[ $code != 0 && "$out" == *DATA_LOSS* && "$out" == *"$log: "*"at byte"* && "$out" == *--salvage* ]] ||
  fail "damaged log: exit $code: $out"
[[ "$(store_digest)" == "$before" ]] || fail "a refused start changed the store"
echo "ok: damaged log refused, nothing changed: ${out:0:200}..."

# 4. --salvage: damaged files kept aside, the intents before the damage served.
utmd_start "$work/out2" "$data" --salvage
port=$utmd_port
grep -q "SALVAGED a damaged store" "$work/out2" || fail "no salvage report: $(cat "$work/out2")"
aside=$(ls -d "$data"/store/damaged-*)
[[ -f "$aside/$(basename "$log")" ]] || fail "damaged log not kept in $aside"
found=0
for id in "${ids[@]}"; do
  "$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" get "$id" >/dev/null 2>&1 && found=$((found + 1))
done
((found > 0 && found < 20)) || fail "after salvage $found of 20 intents are served"
"$UTMCTL" intent --server "127.0.0.1:$port" --token "$alice" get "${ids[0]}" >/dev/null ||
  fail "the first intent was lost"
utmd_stop
echo "ok: --salvage kept $aside and serves $found of 20 intents (those before the damage)"

# 5. The disk fails (a file-size limit, as a full disk): writes answer
# UNAVAILABLE and health says NOT_SERVING for them; telemetry stays SERVING.
fresh="$work/fresh"
(
  trap '' XFSZ
  ulimit -f 16  # KiB: the log reaches it after about 70 intents
  exec "$UTMD" --listen 127.0.0.1:0 --data-dir "$fresh" --shutdown-grace 2 \
    >"$work/out3" 2>&1 </dev/null
) &
utmd_pid=$!
utmd_data=$fresh
for _ in $(seq 1 200); do
  port=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/out3")
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || fail "utmd with a small file-size limit did not start: $(cat "$work/out3")"
alice=$(utmd_token operator alice) || exit 1
health() { "$UTMCTL" health --server "127.0.0.1:$port" "$@" 2>&1; }
out=$(health --service utm.v1.StrategicCoordination) || fail "health before: $out"
failed=""
for n in $(seq 21 400); do
  out=$(file_intent "$n" 2>&1)
  if [[ "$out" == *UNAVAILABLE* || "$out" == *"store failed"* ]]; then failed=$n; break; fi
done
[[ -n "$failed" ]] || fail "400 filings and the store never failed"
out=$(health); code=$?
[[ $code != 0 && "$out" == *NOT_SERVING* ]] || fail "server health after failure: $code $out"
out=$(health --service utm.v1.StrategicCoordination); code=$?
[[ $code != 0 && "$out" == *NOT_SERVING* ]] || fail "strategic health after failure: $code $out"
out=$(health --service utm.v1.ConstraintService); code=$?
[[ $code != 0 && "$out" == *NOT_SERVING* ]] || fail "constraint health after failure: $code $out"
out=$(health --service utm.v1.TelemetryService) || fail "telemetry health after failure: $out"
[[ "$out" == *SERVING* ]] || fail "telemetry said $out"
echo "ok: after the disk failed at filing $failed, health is NOT_SERVING for writes, SERVING for telemetry"
kill -KILL "$utmd_pid"; wait "$utmd_pid" 2>/dev/null; utmd_pid=""
echo "PASS"
