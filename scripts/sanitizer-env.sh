# Sourced by scripts/test.sh and scripts/fuzz.sh: configures and builds the
# clang-14 ASan + UBSan + libFuzzer tree, and sets the sanitizer runtime
# options for what runs from it.
#
#   utm_sanitizer_build BUILD_DIR   configure (once) and build, -j$JOBS
#
# Environment: JOBS (default: nproc).

# Symbolized stacks; any UB report is fatal (the build already aborts on
# UB, this also covers the runtime's own checks); leak checking at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(realpath "$(dirname "${BASH_SOURCE[0]}")")/lsan-suppressions.txt:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" && -x /usr/bin/llvm-symbolizer-14 ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi

utm_sanitizer_build() {
  local dir=$1
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    # Benchmarks are not run under sanitizers, and the load generators'
    # smoke tests ran in the normal tree; building them would only cost time.
    CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUTM_WERROR=ON \
      -DUTM_SANITIZE=ON -DUTM_FUZZ=ON -DUTM_BUILD_BENCHMARKS=OFF \
      -DUTM_BUILD_LOAD_TOOLS=OFF \
      "${launcher[@]}"
  fi
  cmake --build "$dir" -j"${JOBS:-$(nproc)}"
}
