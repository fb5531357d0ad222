#!/usr/bin/env bash
# End-to-end: the utmctl binary on the example files — exit codes and output.
# Usage: utmctl_geo_test.sh UTMCTL EXAMPLES_DIR
set -u
UTMCTL=$1
EX=$2
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
check 66 "not a utm.v1 volume file" geo check "$tmp"
rm -f "$tmp"
exit $fail
