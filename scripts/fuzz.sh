#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/) for longer than CI does, keeping the
# inputs they discover and anything they find. docs/testing.md.
#
# Usage: scripts/fuzz.sh TARGET|all [SECONDS]     (scripts/fuzz.sh list)
#   SECONDS  per target; DEFAULT 300.
#
# Environment:
#   BUILD_DIR  the clang-14 sanitizer+fuzzer build (DEFAULT build-asan;
#              configured and built when missing, or rebuilt when stale)
#   FUZZ_OUT   where results are kept (DEFAULT fuzz-out):
#                FUZZ_OUT/corpus/TARGET/     inputs found (seeds next time)
#                FUZZ_OUT/artifacts/TARGET/  crash-*, leak-*, timeout-*, oom-*
#   FUZZ_JOBS  fuzzing processes per target (DEFAULT 1)
#   JOBS       build parallelism (DEFAULT nproc)
#
# Exit status: 0 when no target found anything, 1 otherwise. Reproduce a
# finding with `BUILD_DIR/fuzz/TARGET_fuzzer FILE` (the same binary also
# minimizes it: -minimize_crash=1 -runs=10000 FILE).
set -euo pipefail
shopt -s extglob
cd "$(dirname "$0")/.."
source scripts/sanitizer-env.sh

BUILD_DIR=${BUILD_DIR:-build-asan}
FUZZ_OUT=${FUZZ_OUT:-fuzz-out}
FUZZ_JOBS=${FUZZ_JOBS:-1}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
what=$1
seconds=${2:-300}
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

utm_sanitizer_build "$BUILD_DIR" >/dev/null
targets_dir="$BUILD_DIR/fuzz/targets"
mapfile -t all < <(ls "$targets_dir")

if [[ "$what" == list ]]; then
  printf '%s\n' "${all[@]}"
  exit 0
fi
if [[ "$what" == all ]]; then
  targets=("${all[@]}")
elif [[ -f "$targets_dir/$what" ]]; then
  targets=("$what")
else
  echo "fuzz.sh: no target '$what'; targets: ${all[*]}" >&2
  exit 2
fi

found=0
for t in "${targets[@]}"; do
  # binary=, seeds=, extra_seeds=, options=, libfuzzer= (fuzz/CMakeLists.txt)
  declare -A conf=()
  while IFS='=' read -r key value; do conf[$key]=$value; done <"$targets_dir/$t"
  if [[ "${conf[libfuzzer]}" != ON ]]; then
    echo "fuzz.sh: $BUILD_DIR is not a UTM_FUZZ build" >&2
    exit 2
  fi
  mkdir -p "$FUZZ_OUT/corpus/$t" "$FUZZ_OUT/artifacts/$t"
  corpus=$(realpath "$FUZZ_OUT/corpus/$t")
  artifacts=$(realpath "$FUZZ_OUT/artifacts/$t")
  dirs=("$corpus" "$(realpath "${conf[seeds]}")")
  for d in ${conf[extra_seeds]}; do
    if [[ -d "$d" ]]; then dirs+=("$(realpath "$d")"); fi
  done
  read -r -a options <<<"${conf[options]}"
  if ((FUZZ_JOBS > 1)); then
    options+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  fi
  echo "== $t: ${seconds}s, ${FUZZ_JOBS} job(s), corpus $corpus"
  status=0
  # With -jobs, libFuzzer writes fuzz-N.log into the current directory.
  (cd "$artifacts" &&
    "$(realpath "${conf[binary]}")" "${options[@]}" \
      -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dirs[@]}") || status=$?
  if ((status != 0)) ||
    compgen -G "$artifacts/@(crash|leak|timeout|oom)-*" >/dev/null; then
    echo "== $t: FOUND something (exit $status); see $artifacts" >&2
    found=1
  fi
  unset conf
done
exit $found
