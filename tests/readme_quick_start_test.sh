#!/usr/bin/env bash
# The README's quick start, run as printed: every command between the
# `<!-- quick-start ... -->` and `<!-- /quick-start -->` markers of README.md,
# in order, in one shell, from a directory where `build-release/` holds this
# build's utmd and utmctl and `docs/` is the repository's. Each `# ...` line
# under a command is the output it must print, line by line (`…` or `...`,
# an id abbreviated as `584c…`, and timestamps match anything; lines starting `# or:` are alternatives and
# skipped). Two lines are played by the test: the utmd start-up (on a free
# port instead of 7400, which $UTM_SERVER then names, so the other commands
# run unchanged) and `kill -TERM %1` (utmd must exit 0). The README drifting
# from the product fails this test.
# Usage: readme_quick_start_test.sh README UTMD UTMCTL
set -u
README=$1 UTMD=$2 UTMCTL=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"

mkdir -p "$work/build-release/services/utmd" "$work/build-release/services/utmctl"
ln -s "$UTMD" "$work/build-release/services/utmd/utmd"
ln -s "$UTMCTL" "$work/build-release/services/utmctl/utmctl"
ln -s "$(cd "$(dirname "$README")" && pwd)/docs" "$work/docs"
cd "$work" || fail "cd $work"

# The code lines of the marked blocks, without their 4-space indent.
mapfile -t lines < <(sed -n '/^<!-- quick-start/,/^<!-- \/quick-start -->/p' "$README" |
  sed -n 's/^    //p')
((${#lines[@]} > 5)) || fail "no quick-start block in $README"

# to_glob LINE: the expected output line as a bash pattern.
to_glob() {
  local g=$1
  g=${g//\\/\\\\}
  g=${g//\[/\\[}
  g=${g//\]/\\]}
  g=${g//\?/\\?}
  g=${g//\*/\\*}
  g=$(sed -E 's/[0-9a-f]*…/…/g' <<<"$g")  # an abbreviated id: "584c…"
  g=${g//…/\*}
  g=${g//.../\*}
  g=$(sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})/*/g' <<<"$g")
  g=${g//127.0.0.1:7400/$UTM_SERVER}
  printf '%s' "$g"
}

# check COMMAND OUTPUT EXPECTED...: every expected line against the output.
check() {
  local cmd=$1 out=$2
  shift 2
  local -a got
  mapfile -t got <<<"$out"
  local i=0 want
  for want in "$@"; do
    # shellcheck disable=SC2053  # the right side is a pattern on purpose
    [[ "${got[$i]:-}" == $(to_glob "$want") ]] ||
      fail "README command: $cmd
  line $((i + 1)): want: $want
  got:
$out"
    i=$((i + 1))
  done
}

export UTM_SERVER=unset
ran=0
cmd=""
expected=()
run_pending() {
  [[ -n "$cmd" ]] || return 0
  local out
  if [[ "$cmd" == build-release/services/utmd/utmd\ * ]]; then
    [[ "$cmd" =~ --data-dir\ ([^ ]+) ]] || fail "utmd line without --data-dir: $cmd"
    local data=${BASH_REMATCH[1]}
    local flags=${cmd#build-release/services/utmd/utmd }
    flags=${flags%&*}
    flags=${flags/--data-dir $data/}
    # shellcheck disable=SC2086  # the README's flags, split as a shell would
    utmd_start "$work/utmd.out" "$data" $flags
    UTM_SERVER=127.0.0.1:$utmd_port
  elif [[ "$cmd" == "kill -TERM %1" ]]; then
    utmd_stop
  elif [[ "$cmd" == export\ * ]]; then
    eval "$cmd" || fail "README command failed: $cmd"
  else
    out=$(eval "$cmd" 2>&1)
    check "$cmd" "$out" "${expected[@]}"
  fi
  echo "ok: $cmd"
  ran=$((ran + 1))
  cmd=""
  expected=()
}
for line in "${lines[@]}"; do
  if [[ -z "$line" ]]; then
    continue
  elif [[ "$line" == "# or:"* ]]; then
    continue
  elif [[ "$line" == "#"* ]]; then
    expected+=("${line#"# "}")
  else
    run_pending
    cmd=${line%%  #*}
    cmd=${cmd%"${cmd##*[![:space:]]}"}  # trailing blanks
  fi
done
run_pending
((ran >= 8)) || fail "only $ran commands ran"
[[ -z "$utmd_pid" ]] || fail "the quick start left utmd running"
echo "ok: $ran README commands as printed"
