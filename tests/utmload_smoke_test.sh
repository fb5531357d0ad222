#!/usr/bin/env bash
# Smoke test of the load generator: tiny runs against a real utmd on
# loopback must file (and query) everything and report both the no-op
# baseline and utmd. Usage: utmload_smoke_test.sh UTMD UTMCTL UTMLOAD
set -u
UTMD=$1 UTMCTL=$2 UTMLOAD=$3
work=$(mktemp -d)
pid=""
trap '[[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Starts a fresh utmd on its own data directory; sets port and token.
start_utmd() {
  [[ -n "$pid" ]] && { kill -TERM "$pid"; wait "$pid"; }
  local data="$work/data-$1"
  "$UTMD" --listen 127.0.0.1:0 --data-dir "$data" >"$work/log-$1" 2>&1 </dev/null &
  pid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log-$1")
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || fail "utmd did not start: $(cat "$work/log-$1")"
  token=$("$UTMCTL" token --role operator --sub load --data-dir "$data")
}

start_utmd file
out=$("$UTMLOAD" --target "127.0.0.1:$port" --token "$token" --preload 100 \
  --filings 100 --clients 4 --channels 2) || fail "utmload: $out"
for want in '"noop": {"filings": 100, "failed": 0' \
            '"utmd": {"filings": 100, "failed": 0' '"throughput_ratio_to_noop"'; do
  [[ "$out" == *"$want"* ]] || fail "missing $want in $out"
done

start_utmd query
out=$("$UTMLOAD" --mode query --target "127.0.0.1:$port" --token "$token" \
  --preload 100 --filings 100 --clients 4 --channels 2) || fail "utmload query: $out"
[[ "$out" == *'"utmd": {"filings": 100, "failed": 0'* && "$out" == *'"mode": "query"'* ]] ||
  fail "query mode: $out"

out=$("$UTMLOAD" --target 10.1.2.3:7400 --filings 1 2>&1); code=$?
[[ $code == 64 && "$out" == *"loopback"* ]] || fail "non-loopback target accepted: $out"
echo "ok: utmload files and queries against utmd and a no-op baseline; refuses non-loopback targets"
