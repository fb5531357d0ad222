#!/usr/bin/env bash
# The operator documentation stays true: every flag `utmd --help` lists is in
# docs/operations.md, and the docs, the README and the proto comments speak
# of the product only (no issue numbers, no paths outside the repository).
# Usage: docs_test.sh UTMD REPO_ROOT
set -u
UTMD=$1
ROOT=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

help=$("$UTMD" --help) || fail "utmd --help exited $?"
# Option lines start with spaces and the flag ("  --listen TEXT ...",
# "  -h,--help").
mapfile -t flags < <(grep -oE '^ +(-[a-zA-Z],)?--[a-z0-9-]+' <<<"$help" |
                     grep -oE -- '--[a-z0-9-]+' | sort -u)
((${#flags[@]} >= 20)) || fail "only ${#flags[@]} flags found in utmd --help: $help"
missing=()
for f in "${flags[@]}"; do
  [[ $f == --help ]] && continue
  grep -qF -- "\`$f\`" "$ROOT/docs/operations.md" || missing+=("$f")
done
((${#missing[@]} == 0)) || fail "docs/operations.md does not mention: ${missing[*]}"
echo "ok: all ${#flags[@]} flags of utmd --help are in docs/operations.md"

bad=$(grep -rnEi '\bissues? #?[0-9]|\blater issues?\b|(^|[^A-Za-z0-9_])#[0-9]+\b|\.\./shared' \
        "$ROOT/docs" "$ROOT/README.md" "$ROOT/proto")
[[ -z "$bad" ]] || fail "issue numbers or outside paths in the docs: $bad"
echo "ok: no issue numbers or paths outside the repository in docs/, README.md, proto/"
