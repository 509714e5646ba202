#!/usr/bin/env bash
# Builds wsflow twice (plain, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs the
# whole test suite (Catch2 unit tests and end-to-end tests of the real binary) in each, then runs
# every fuzz target briefly (scripts/fuzz.sh, fuzz/README.md).
#   scripts/test.sh            both builds, then fuzzing ($WSFLOW_FUZZ_SECONDS per target, default 15)
#   scripts/test.sh --plain    the plain build only (quicker while developing)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
run_build() { # run_build DIR SCALE CMAKE-ARGS...
  local dir=$1 scale=$2; shift 2
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
  WSFLOW_TEST_SCALE=$scale ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
}
run_build build 1 -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != --plain ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Sanitizers make every event several times dearer: event counts scale down, assertions do not.
  run_build build-asan 0.2 -DWSFLOW_SANITIZE=ON -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g"
  # A short run of each libFuzzer target: the crashes fuzzing found are unit tests, this catches new ones.
  scripts/fuzz.sh "${WSFLOW_FUZZ_SECONDS:-15}"
fi
