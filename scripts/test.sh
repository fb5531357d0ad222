#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest); then the
# sanitizer stage: the whole suite again under ASan + UBSan (clang-14), and
# each fuzz target for a few seconds. docs/testing.md.
#
# Environment:
#   BUILD_DIR           build directory (default: build)
#   BUILD_TYPE          CMake build type (default: RelWithDebInfo)
#   UTM_SANITIZE_STAGE  0 skips the sanitizer stage (default: 1; CI runs it)
#   SANITIZE_BUILD_DIR  its build directory (default: build-asan)
#   UTM_BAZEL_STAGE     0 skips the Bazel stage (default: 1; CI runs it):
#                       bazel build //... and bazel test //... (bazel/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

export UTM_SANITIZE_STAGE=${UTM_SANITIZE_STAGE:-1}
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

# The second build: Bazel (bazel-bootstrap 4.2.3, offline) builds the tree
# and runs every C++ test again; .bazelrc holds the flags.
if [[ "$UTM_BAZEL_STAGE" == 0 ]]; then
  echo "== Bazel stage skipped (UTM_BAZEL_STAGE=0)"
else
  stage "bazel build" bazel build --jobs="$JOBS" //...
  stage "bazel test" bazel test --jobs="$JOBS" --local_test_jobs="$JOBS" \
    --test_output=errors //...
fi

if [[ "$UTM_SANITIZE_STAGE" == 0 ]]; then
  echo "== sanitizer stage skipped (UTM_SANITIZE_STAGE=0)"
  exit 0
fi
source scripts/sanitizer-env.sh
SANITIZE_BUILD_DIR=${SANITIZE_BUILD_DIR:-build-asan}
stage "asan+ubsan build" utm_sanitizer_build "$SANITIZE_BUILD_DIR"
# The randomised geometry checks already ran their full count above (and
# assert the 100,000-pair bar there); under the sanitizers a quarter of it
# covers the same code paths.
stage "asan+ubsan ctest" env UTM_RANDOM_PAIRS=${UTM_RANDOM_PAIRS:-28000} ctest --test-dir "$SANITIZE_BUILD_DIR" -LE fuzz \
  --output-on-failure -j"$JOBS" --timeout 900
# One fuzzer per core; each runs UTM_FUZZ_SECONDS (fuzz/CMakeLists.txt).
stage "fuzzers (bounded)" ctest --test-dir "$SANITIZE_BUILD_DIR" -L fuzz \
  --output-on-failure -j"$JOBS"
