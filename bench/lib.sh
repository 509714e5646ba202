# shellcheck shell=bash
# lib.sh - helpers for blaster.sh and resilience.sh (sourced, not run).
# Sets: BENCH_DIR REPO SHARED_BENCH WSFLOW_BIN OUTDIR PIN_S PIN_C; kills every process started with
# track() when the script exits, however it exits.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
SHARED_BENCH=$(cd "${SHARED_BENCH:-$BENCH_DIR/../../shared/bench}" && pwd)
WSFLOW_BIN=${WSFLOW_BIN:-$REPO/build/wsflow}
[[ $WSFLOW_BIN == /* ]] || WSFLOW_BIN=$PWD/$WSFLOW_BIN
[ -x "$WSFLOW_BIN" ] || { echo "wsflow binary not found: $WSFLOW_BIN (set WSFLOW_BIN)" >&2; exit 2; }
OUTDIR=${OUTDIR:-/dev/shm/wsflow-bench}
[ -d "$(dirname "$OUTDIR")" ] || OUTDIR=/tmp/wsflow-bench
PIN=${PIN:-1}
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then PIN_S=(taskset -c 0) PIN_C=(taskset -c 1); else PIN_S=() PIN_C=(); fi
TICK=$(getconf CLK_TCK)

TRACKED=()
track() { TRACKED+=("$1"); } # track PID: it and its direct children are killed on exit
cleanup() {
  local p
  for p in "${TRACKED[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${TRACKED[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for FILE REGEX PID [TENTHS]: until FILE has a line matching REGEX (default 30 s), or PID died.
wait_for() {
  local i
  for ((i = 0; i < ${4:-300}; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  grep -Eq "$2" "$1" 2>/dev/null && return 0
  echo "process $3 did not write /$2/ to $1:" >&2; cat "$1" >&2 2>/dev/null || true; exit 1
}

# start_serve NAME ARGS...: wsflow serve on CPU 0 (PIN=1), any free port; sets SERVE_PID SERVE_URL.
start_serve() {
  local name=$1; shift
  rm -f "$OUTDIR/$name.port"
  "${PIN_S[@]}" "$WSFLOW_BIN" serve --port 0 --port-file "$OUTDIR/$name.port" "$@" 2>"$OUTDIR/$name.log" &
  SERVE_PID=$!; track "$SERVE_PID"
  wait_for "$OUTDIR/$name.port" '^[0-9]+$' "$SERVE_PID"
  SERVE_URL=ws://127.0.0.1:$(cat "$OUTDIR/$name.port")
}
stop() { pkill -P "$1" 2>/dev/null || true; kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; } # stop PID and its children

# CPU accounting, same idea as ../shared/bench/common.sh: all busy ticks on the machine, and one
# process's ticks, so "other" = busy - server - client tells whether something else was running.
busy_ticks() { local _ u n s i w q sq st; read -r _ u n s i w q sq st _ </proc/stat; echo $((u + n + s + q + sq + st)); }
proc_ticks() { local f; read -r -a f <"/proc/$1/stat" 2>/dev/null && echo $((f[13] + f[14])) || echo 0; }
now_us() { echo "${EPOCHREALTIME/./}"; }

# median of the numbers on stdin (one per line); the lower middle one for an even count.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

machine_line() {
  echo "# $(date -u +%FT%TZ) host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')," \
    "loadavg $(cut -d' ' -f1-3 /proc/loadavg); $WSFLOW_BIN: $("$WSFLOW_BIN" --version 2>&1 | head -1)," \
    "built $(date -u -r "$WSFLOW_BIN" +%FT%TZ), sha256 $(sha256sum "$WSFLOW_BIN" | cut -c1-12); repo HEAD" \
    "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'); PIN=$PIN"
}
busy_warning() { # like ../shared/bench/common.sh: warn if the CPUs are not idle before measuring
  local a b; a=$(busy_ticks); sleep 1; b=$(busy_ticks)
  local pct=$(((b - a) * 100 / ($(nproc) * TICK)))
  ((pct > 10)) && echo "# WARNING: CPUs ${pct}% busy just before the run; timings will be noisy" >&2
  return 0
}
