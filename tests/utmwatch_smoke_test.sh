#!/usr/bin/env bash
# Smoke test of the fan-out benchmark: a tiny run (50 watchers, 5 publishes)
# against a real utmd on loopback must deliver every publish to every
# watcher exactly once (no-op baseline included), in --spread mode too, and
# exit 0; non-loopback targets are refused. Usage:
# utmwatch_smoke_test.sh UTMD UTMCTL UTMWATCH
set -u
UTMD=$1 UTMCTL=$2 UTMWATCH=$3
work=$(mktemp -d)
pid=""
trap '[[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" --store memory \
  >"$work/log" 2>&1 </dev/null &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/^utmd: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log")
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || fail "utmd did not start: $(cat "$work/log")"
regulator=$("$UTMCTL" token --role regulator --sub smoke-authority --data-dir "$work/data")
operator=$("$UTMCTL" token --role operator --sub smoke-operator --data-dir "$work/data")

out=$("$UTMWATCH" --target "127.0.0.1:$port" --token "$regulator" \
  --watch-token "$operator" --watchers 50 --channels 4 --publishes 5 \
  --server-pid "$pid" 2>"$work/err") || fail "utmwatch exited $?: $out $(cat "$work/err")"
for want in '"noop": {"open": {"streams": 50, "ready": 50, "failed": 0' \
            '"utmd": {"open": {"streams": 50, "ready": 50, "failed": 0' \
            '"expected": 250, "delivered": 250, "missing": 0, "duplicates": 0, "unmatched": 0, "misrouted": 0, "resync_required": 0' \
            '"publish_with_watchers": {"publishes": 5, "failed": 0' '"ok": true'; do
  [[ "$out" == *"$want"* ]] || fail "missing $want in $out"
done
# Both targets delivered everything.
[[ $(grep -o '"delivered": 250, "missing": 0, "duplicates": 0' <<<"$out" | wc -l) == 2 ]] ||
  fail "not every target delivered everything: $out"

# --spread 5: each publish reaches only its tile's 10 watchers.
out=$("$UTMWATCH" --target "127.0.0.1:$port" --token "$regulator" \
  --watchers 50 --channels 2 --publishes 5 --spread 5 2>"$work/err") ||
  fail "utmwatch --spread exited $?: $out $(cat "$work/err")"
[[ "$out" == *'"expected": 50, "delivered": 50, "missing": 0, "duplicates": 0, "unmatched": 0, "misrouted": 0'* &&
   "$out" != *'"noop"'* ]] || fail "spread: $out"

out=$("$UTMWATCH" --target 10.1.2.3:7400 --token x 2>&1); code=$?
[[ $code == 64 && "$out" == *"loopback"* ]] || fail "non-loopback target accepted: $out"
kill -TERM "$pid"
wait "$pid" || fail "utmd did not stop cleanly"
pid=""
echo "ok: utmwatch delivers every publish to every watcher exactly once (no-op and utmd, spread too); refuses non-loopback targets"
