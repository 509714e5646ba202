#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, -fsanitize=fuzzer,address,undefined) and runs each
# for SECONDS, its corpus seeded from tests/fixtures and fuzz/seeds (fuzz/README.md).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60); TARGETs: json, url,
#                                           dialect_ryx, ... (default: every target in fuzz/CMakeLists.txt)
# Prints libFuzzer's closing line per target (executions, coverage, exec/s), or what went wrong.
# Exit status 1 when any target crashed, leaked, timed out on an input or ran out of memory; the
# input is then in $FUZZ_BUILD/artifacts/ (reproduce: $FUZZ_BUILD/fuzz/fuzz_TARGET FILE).
# Env: FUZZ_BUILD=build-fuzz  FUZZ_JOBS=1 (targets run at the same time)  FUZZ_TIMEOUT=25 (seconds
#      one input may take)  FUZZ_ARGS (more libFuzzer flags, e.g. -max_len=65536)
# The corpus found so far stays in $FUZZ_BUILD/corpus/TARGET and is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
read -r -a extra <<<"${FUZZ_ARGS:-}"

cmake -S . -B "$build" -G Ninja -DWSFLOW_FUZZ=ON -DWSFLOW_TESTS=OFF -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_COMPILER=clang++ "-DCMAKE_CXX_FLAGS=-O1 -g" >/dev/null
ninja -C "$build" -j "$(nproc)" fuzz-all >/dev/null
manifest=$build/fuzz/targets.txt
mkdir -p "$build/artifacts" "$build/logs"

# seed NAME LINES FILES: a fresh seed directory from the manifest's lists
seed() {
  local dir=$build/seeds/$1 f; rm -rf "$dir"; mkdir -p "$dir"
  for f in $2; do awk -v d="$dir" -v n="$(basename "$f")" 'length($0) { p = d "/" n "." NR; printf "%s", $0 > p; close(p) }' "$f"; done
  for f in $3; do if [ -d "$f" ]; then cp "$f"/* "$dir"/; else cp "$f" "$dir"/; fi; done
}

run() { # run NAME BINARY DICT LINES FILES: one target; prints one line, returns libFuzzer's status
  local name=$1 bin=$2 dict=$3 log=$build/logs/$1.log rc=0
  seed "$name" "$4" "$5"
  mkdir -p "$build/corpus/$name"
  local args=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$build/artifacts/$name-" "${extra[@]}")
  [ "$dict" != - ] && args+=(-dict="$dict")
  "$bin" "${args[@]}" "$build/corpus/$name" "$build/seeds/$name" >"$log" 2>&1 || rc=$?
  local done_line runs
  # (|| true: these lines are missing after a crash, and `run &` runs with set -e in force)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s '[:space:]' ' ') || true
  runs=$(grep -m1 '^stat::number_of_executed_units:' "$log" | awk '{ print $2 }') || true
  if [ "$rc" = 0 ]; then
    printf '%-17s ok    %s runs in %ss: %s\n' "$name" "${runs:-?}" "$seconds" "${done_line:-(no DONE line; see $log)}"
  else
    printf '%-17s FAIL  exit %s: %s\n' "$name" "$rc" \
      "$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|FUZZ_CHECK failed|ALARM|.*-timeout)|runtime error' "$log" | cut -c1-200 || true)"
    grep -E 'Test unit written to|SUMMARY:' "$log" | sed 's/^/                        /' || true
    echo "                        log: $log"
  fi
  return "$rc"
}

want=" $* "
fail=0 running=0
while IFS='|' read -r name bin dict lines files; do
  [ $# -eq 0 ] || [[ $want == *" $name "* ]] || continue
  if ((jobs > 1)); then
    run "$name" "$bin" "$dict" "$lines" "$files" &
    running=$((running + 1))
    if ((running >= jobs)); then wait -n || fail=1; running=$((running - 1)); fi
  else
    run "$name" "$bin" "$dict" "$lines" "$files" || fail=1
  fi
done <"$manifest"
while ((running > 0)); do wait -n || fail=1; running=$((running - 1)); done
exit "$fail"
