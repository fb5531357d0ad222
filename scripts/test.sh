#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest); then the
# Bazel stage: the tree built again by Bazel under ASan + UBSan (clang-14),
# every C++ test run again there, and each fuzz target for a few seconds.
# docs/testing.md.
#
# Environment:
#   BUILD_DIR           build directory (default: build)
#   BUILD_TYPE          CMake build type (default: RelWithDebInfo)
#   UTM_BAZEL_STAGE     0 skips the Bazel stage (default: 1; CI runs it):
#                       bazel build --config=asan //... and bazel test
#                       --config=asan //... (bazel/README.md)
#   UTM_SANITIZE_STAGE  1 also runs CMake's sanitizer tree: the whole ctest
#                       suite, shell tests included, under ASan + UBSan, and
#                       the fuzzers (default: 0)
#   SANITIZE_BUILD_DIR  its build directory (default: build-asan)
#   UTM_FUZZ_SECONDS    how long each fuzz target runs (default: 10)
set -euo pipefail
cd "$(dirname "$0")/.."

export UTM_SANITIZE_STAGE=${UTM_SANITIZE_STAGE:-0}
export UTM_BAZEL_STAGE=${UTM_BAZEL_STAGE:-1}
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=$(nproc)
export JOBS

timings=()
stage() {  # stage NAME COMMAND...: runs it and records its wall time
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  "$@"
  timings+=("$(printf '%-34s %5d s' "$name" $((SECONDS - start)))")
}
report() {
  echo "== stage times (wall)"
  printf '  %s\n' "${timings[@]}"
}
trap report EXIT

# Line tables only (-g1): stack traces and sanitizer reports keep their
# file:line, and the build takes about a quarter less time than with -g.
build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DUTM_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
  cmake --build "$BUILD_DIR" -j"$JOBS"
}
stage "build" build
stage "ctest" ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" --timeout 900

# The second build, and the sanitizer run: Bazel (bazel-bootstrap 4.2.3,
# offline) builds the tree with clang-14, ASan, UBSan and libFuzzer
# (--config=asan in .bazelrc), then runs every C++ test and fuzzes each fuzz
# target for UTM_FUZZ_SECONDS. The randomised geometry checks already ran
# their full count above (and assert the 100,000-pair bar there); under the
# sanitizers a quarter of it covers the same code paths.
source scripts/sanitizer-env.sh
if [[ "$UTM_BAZEL_STAGE" == 0 ]]; then
  echo "== Bazel stage skipped (UTM_BAZEL_STAGE=0)"
else
  stage "bazel build (asan+ubsan)" bazel build --config=asan --jobs="$JOBS" //...
  stage "bazel test (asan+ubsan, fuzz)" env UTM_FUZZ_SECONDS="${UTM_FUZZ_SECONDS:-10}" \
    bazel test --config=asan --jobs="$JOBS" --local_test_jobs="$JOBS" \
    --test_env=ASAN_OPTIONS --test_env=LSAN_OPTIONS --test_env=UBSAN_OPTIONS \
    --test_env=ASAN_SYMBOLIZER_PATH \
    --test_env=UTM_RANDOM_PAIRS="${UTM_RANDOM_PAIRS:-28000}" \
    --test_output=errors //...
fi

if [[ "$UTM_SANITIZE_STAGE" == 0 ]]; then
  exit 0
fi
SANITIZE_BUILD_DIR=${SANITIZE_BUILD_DIR:-build-asan}
stage "cmake asan+ubsan build" utm_sanitizer_build "$SANITIZE_BUILD_DIR"
stage "cmake asan+ubsan ctest" env UTM_RANDOM_PAIRS=${UTM_RANDOM_PAIRS:-28000} ctest --test-dir "$SANITIZE_BUILD_DIR" -LE fuzz \
  --output-on-failure -j"$JOBS" --timeout 900
# One fuzzer per core; each runs UTM_FUZZ_SECONDS (fuzz/CMakeLists.txt).
stage "cmake fuzzers (bounded)" ctest --test-dir "$SANITIZE_BUILD_DIR" -L fuzz \
  --output-on-failure -j"$JOBS"
