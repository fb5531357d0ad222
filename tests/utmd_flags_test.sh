#!/usr/bin/env bash
# utmd refuses a command line that cannot work before it touches anything:
# exit 2 and one line naming the flag (--store redis without an address,
# --redis with --redis-sentinels, an unknown --services item, an unreadable
# password file, a --redis* flag without --store redis, a CLI11 error).
# --help lists every flag of the Redis store and the service split.
# Usage: utmd_flags_test.sh UTMD
set -u
UTMD=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

refused() {  # refused MESSAGE FLAGS...: exit 2 and MESSAGE in the output
  local want=$1
  shift
  local out code
  out=$(timeout 10 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" "$@" 2>&1 </dev/null)
  code=$?
  [[ $code == 2 && $out == *"$want"* ]] || fail "utmd $*: exit $code: $out"
  [[ ! -e $work/data ]] || fail "utmd $* created its data directory before refusing"
  echo "ok: utmd $* -> exit 2: $out"
}

refused "--store redis needs --redis HOST:PORT or --redis-sentinels" --store redis
refused "--redis and --redis-sentinels exclude each other" \
  --store redis --redis 127.0.0.1:6379 --redis-sentinels 127.0.0.1:26379 --redis-master utm
refused "--redis-sentinels needs --redis-master" --store redis --redis-sentinels 127.0.0.1:26379
refused '--redis-sentinels[1] "b": missing :port' \
  --store redis --redis-sentinels a:1,b --redis-master utm
refused "--redis-password-file: " --store redis --redis 127.0.0.1:6379 \
  --redis-password-file "$work/no-such-file"
refused "need --store redis" --redis 127.0.0.1:6379
refused "need --store redis" --store embedded --redis-wait-replicas 1
refused '--services: unknown service "telemtry" (item 2)' --services intent,telemtry
refused "--services: empty service (item 1)" --services ""
refused "--salvage and --no-sync" --store redis --redis 127.0.0.1:6379 --salvage
refused "--store: bogus not in {embedded,memory,redis}" --store bogus
refused "--redis-wait-replicas" --store redis --redis 127.0.0.1:6379 --redis-wait-replicas -1
refused "--redis-command-timeout: 61 s" --store redis --redis 127.0.0.1:6379 \
  --redis-command-timeout 61
refused "--redis-sentinel-password-file goes with --redis-sentinels" \
  --store redis --redis 127.0.0.1:6379 --redis-sentinel-password-file "$work/no-such-file"
refused "need --store redis" --redis-connect-timeout 1

help=$("$UTMD" --help) || fail "--help exited $?"
for f in --store --redis --redis-password-file --redis-user --redis-sentinels \
         --redis-master --redis-wait-replicas --redis-sentinel-password-file \
         --redis-connect-timeout --redis-command-timeout --services; do
  grep -qE -- "^ +$f " <<<"$help" || fail "--help does not list $f"
done
grep -A3 -E -- '^ +--store ' <<<"$help" | grep -q "redis" || fail "--help: --store has no redis"
echo "ok: --help lists every Redis and --services flag"

# Redis unreachable at start: exit 1 (not a flag error), naming the address.
# Port 1: privileged, nothing listens there, the connection is refused.
port=1
out=$(timeout 20 "$UTMD" --listen 127.0.0.1:0 --data-dir "$work/data" --store redis \
  --redis "127.0.0.1:$port" 2>&1 </dev/null)
code=$?
[[ $code == 1 && $out == *"127.0.0.1:$port"* ]] || fail "unreachable Redis: exit $code: $out"
echo "ok: an unreachable Redis fails the start (exit 1): $out"
