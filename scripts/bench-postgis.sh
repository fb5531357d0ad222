#!/usr/bin/env bash
# Conflict queries, utmd vs PostGIS, on the same volumes in the same run.
#
# Both hold PRELOAD intents in one busy 10 km² area (sim/utmload's workload:
# a 100 m grid of 40 m circles, successive 30-minute slots per spot, 500-620 m
# above WGS84) and answer QUERIES conflict queries "which volumes meet this
# 4-D volume" from CLIENTS concurrent clients:
#   - utmd: QueryIntents over gRPC on loopback (sim/utmload --mode query),
#     with its in-process no-op gRPC baseline;
#   - PostGIS 3 on PostgreSQL 15, started here on a private unix socket (no
#     TCP listener), geography(Polygon) with a GiST index, ST_Intersects plus
#     altitude and time filters, driven by pgbench.
# Prints both results and the ratio. Installs PostgreSQL/PostGIS (Debian) on
# first use. Needs root (or sudo) for that and to run PostgreSQL as the
# postgres user.
#
# Environment: PRELOAD (100000), QUERIES (20000), CLIENTS (16), BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
PRELOAD=${PRELOAD:-100000}
QUERIES=${QUERIES:-20000}
CLIENTS=${CLIENTS:-16}

if [[ "$(dpkg-query -W -f='${Status}' postgresql-15-postgis-3 2>/dev/null)" != "install ok installed" ]]; then
  echo "bench-postgis: installing postgresql-15 and postgis" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postgresql-15 postgresql-15-postgis-3 >/dev/null
fi
PGBIN=/usr/lib/postgresql/15/bin

WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDIR="$WORK/pg"
cleanup() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop \
    >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== utmd (QueryIntents over gRPC; no-op gRPC baseline in the same run)" >&2
UTMD_JSON=$(scripts/bench-intents.sh --mode query --preload "$PRELOAD" \
  --filings "$QUERIES" --clients "$CLIENTS")
echo "$UTMD_JSON"

echo "== PostGIS (pgbench over a unix socket)" >&2
install -d -o postgres -g postgres "$PGDIR"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres \
  >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
  -o "-c listen_addresses='' -k $PGDIR -c shared_buffers=512MB -c max_connections=64" \
  start >/dev/null
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -U postgres -d postgres)
# The same volumes as utmload's workload (31 x 31 spots of 10 km²).
VOLUME_SQL="ST_Buffer(ST_Project(ST_Project(ST_SetSRID(ST_MakePoint(8.5417, 47.3769), 4326)::geography,
      ((:k % 961) % 31) * 100.0, radians(90)), ((:k % 961) / 31) * 100.0, 0), 40)"
"${PSQL[@]}" <<SQL
CREATE EXTENSION postgis;
CREATE TABLE volumes (id bigint PRIMARY KEY, geog geography(Polygon, 4326),
  alt_lo float8, alt_hi float8, t_lo timestamptz, t_hi timestamptz);
INSERT INTO volumes
  SELECT k, $(echo "$VOLUME_SQL" | sed 's/:k/k/g'), 500, 620,
         timestamptz '2027-01-15 08:00Z' + (31 * (k / 961)) * interval '1 minute',
         timestamptz '2027-01-15 08:30Z' + (31 * (k / 961)) * interval '1 minute'
  FROM generate_series(0, $PRELOAD - 1) AS k;
CREATE INDEX ON volumes USING gist (geog);
ANALYZE volumes;
SQL
cat >"$PGDIR/query.sql" <<SQL
\set k random(0, $PRELOAD - 1)
SELECT count(*) FROM volumes v
 WHERE ST_Intersects(v.geog, $VOLUME_SQL)
   AND v.alt_lo <= 620 AND v.alt_hi >= 500
   AND v.t_lo <= timestamptz '2027-01-15 08:30Z' + (31 * (:k / 961)) * interval '1 minute'
   AND v.t_hi >= timestamptz '2027-01-15 08:00Z' + (31 * (:k / 961)) * interval '1 minute';
SQL
# Sanity: the query finds exactly the volume it was built from.
FOUND=$(sed -e '1d' -e 's/:k/1234/g' "$PGDIR/query.sql" | "${PSQL[@]}" -t -A)
[[ "$FOUND" == 1 ]] || { echo "bench-postgis: query found $FOUND volumes, not 1" >&2; exit 1; }
(cd "$PGDIR" && runuser -u postgres -- "$PGBIN/pgbench" -n -h "$PGDIR" -U postgres \
  -c "$CLIENTS" -j 2 -t $((QUERIES / CLIENTS)) -f "$PGDIR/query.sql" -l \
  --log-prefix="$PGDIR/pgbench" postgres >"$WORK/pgbench.out" 2>&1) || {
  cat "$WORK/pgbench.out"; exit 1; }
TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.out" | head -1)
# Per-transaction latency (µs) is the third field of pgbench's log.
read -r P50 P99 < <(cat "$PGDIR"/pgbench.* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ {print $3}' |
  sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
UTMD_QPS=$(echo "$UTMD_JSON" | sed -n 's/.*"utmd": {[^}]*"per_second": \([0-9.]*\).*/\1/p')
echo "{\"postgis\": {\"queries_per_second\": $TPS, \"p50_ms\": $P50, \"p99_ms\": $P99, \"volumes_found_per_query\": $FOUND}, \"utmd_queries_per_second\": $UTMD_QPS, \"utmd_over_postgis\": $(awk -v a="$UTMD_QPS" -v b="$TPS" 'BEGIN {printf "%.2f", a / b}')}"
