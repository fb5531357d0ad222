#!/usr/bin/env bash
# The test fuzz.NAME under Bazel (bazel/fuzz.bzl):
#   run_fuzz_test.sh BINARY SEED_DIR... fuzz|replay [LIBFUZZER_OPTION...]
# replay: runs each seed once (a build without libFuzzer). fuzz: libFuzzer
# for UTM_FUZZ_SECONDS (default 10) from the seeds; new inputs go to the
# test's temporary directory, a crash's input to its undeclared outputs.
set -euo pipefail
binary=$1
shift
dirs=()
while [[ $# -gt 0 && $1 != fuzz && $1 != replay ]]; do
  if [[ -d $1 ]]; then dirs+=("$1"); fi
  shift
done
if [[ $# -eq 0 || ${#dirs[@]} -eq 0 ]]; then
  echo "usage: run_fuzz_test.sh BINARY SEED_DIR... fuzz|replay [OPTION...]; no seed directory found" >&2
  exit 2
fi
mode=$1
shift
if [[ $mode == replay ]]; then
  exec "$binary" "${dirs[@]}"
fi
work=$TEST_TMPDIR/work
mkdir -p "$work"
exec "$binary" "$@" -max_total_time="${UTM_FUZZ_SECONDS:-10}" -print_final_stats=1 \
  -artifact_prefix="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/" \
  "$work" "${dirs[@]}"
