#!/usr/bin/env bash
# serve.sh - what `wsflow serve` costs: memory after many finished runs, events/s to one client and
# to many watchers, restart time with a large data dir, descriptors and memory around a flood of
# dropped connections (issue 14).
#
# Usage: bench/serve.sh            (any cwd)
#  (a) memory: RUNS `execute` runs of N events each (scenario long), one after the other, on a serve
#      with --data-dir (and, MODES including tmp, one without); VmRSS and VmHWM of serve after them,
#      then after `watch` has read one of them back whole (checked: N+4 lines, byte-identical).
#      BASE_BIN (the binary before issue 14) runs the same with --data-dir when it is set.
#  (b) events/s to one client: `wsflow watch` of a finished run of BIG events read back from disk
#      (> /dev/null), and `wsflow execute` of a live one; events / wall, serve's CPU %.
#  (c) events/s to WATCHERS watchers: serve-clients.py opens WATCHERS raw connections that subscribe
#      to one finished run of N events; total events / wall.
#  (d) restart: serve on the data dir of (a) (RUNS x N events): ms from exec to the port file
#      (listening), and to the first `wsflow runs` answer; BASE_BIN too when set.
#  (e) flood: FLOOD connections opened and dropped (RST): serve's fd count and VmRSS before and after.
# Env: RUNS=200 N=5000 BIG=1000000 WATCHERS=200 FLOOD=500 MODES='tmp base' (extra passes of (a))
#      WSFLOW_BIN=<repo>/build/wsflow BASE_BIN= OUTDIR=/dev/shm/wsflow-bench PIN=1
# Output: one table per part on stdout. Exit status 1 if a check failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-200} N=${N:-5000} BIG=${BIG:-1000000} WATCHERS=${WATCHERS:-200} FLOOD=${FLOOD:-500}
MODES=${MODES:-tmp base} BASE_BIN=${BASE_BIN:-}
OUT=$OUTDIR/serve
rm -rf "$OUT" && mkdir -p "$OUT"
CLIENTS=$BENCH_DIR/serve-clients.py
cfg() { echo "{\"scenario\":\"long\",\"events\":$1,\"delay_ms\":0}"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
port_of() { echo "${1##*:}"; }

busy_warning
machine_line
echo "# RUNS=$RUNS N=$N BIG=$BIG WATCHERS=$WATCHERS FLOOD=$FLOOD BASE_BIN=${BASE_BIN:-none}"

# ---- (a) memory after RUNS finished runs -----------------------------------------------------
echo
echo "## (a) serve's memory after $RUNS finished runs of $N events"
printf 'binary\tdata dir\trss_after_runs_MB\thwm_MB\trss_after_readback_MB\treadback_ok\twall_s\n'
mem_pass() { # mem_pass LABEL BIN DATA-DIR-OR-EMPTY
  local label=$1 bin=$2 dir=$3 t0 t1 ok=yes
  local args=(-q); [ -n "$dir" ] && args+=(--data-dir "$dir")
  WSFLOW_BIN=$bin start_serve "mem-$label" "${args[@]}"
  t0=$(now_us)
  for ((i = 0; i < RUNS; i++)); do
    "$WSFLOW_BIN" execute bench --url "$SERVE_URL" --run-id "m$i" --config "$(cfg "$N")" -q >"$OUT/last.ndjson"
  done
  t1=$(now_us)
  local rss hwm; rss=$(kb "$SERVE_PID" VmRSS) hwm=$(kb "$SERVE_PID" VmHWM)
  "$WSFLOW_BIN" watch m0 --url "$SERVE_URL" -q >"$OUT/readback.ndjson"
  "$WSFLOW_BIN" watch "m$((RUNS - 1))" --url "$SERVE_URL" -q | cmp -s - "$OUT/last.ndjson" || ok=no
  [ "$(wc -l <"$OUT/readback.ndjson")" -eq $((N + 4)) ] || ok=no
  [ $ok = yes ] || fail=1
  local where="no (temporary)"; [ -n "$dir" ] && where=yes
  printf '%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%.1f\n' "$label" "$where" "$(bc -l <<<"$rss/1024")" \
    "$(bc -l <<<"$hwm/1024")" "$(bc -l <<<"$(kb "$SERVE_PID" VmRSS)/1024")" $ok "$(bc -l <<<"($t1-$t0)/1000000")"
  MEM_PID=$SERVE_PID MEM_URL=$SERVE_URL
}
fail=0
mem_pass new "$WSFLOW_BIN" "$OUT/data"
NEW_PID=$MEM_PID NEW_URL=$MEM_URL
if [[ " $MODES " == *" tmp "* ]]; then mem_pass new-tmp "$WSFLOW_BIN" ""; stop "$MEM_PID"; fi
if [ -n "$BASE_BIN" ] && [[ " $MODES " == *" base "* ]]; then mem_pass base "$BASE_BIN" "$OUT/data-base"; stop "$MEM_PID"; fi

# ---- (c) WATCHERS watchers of one finished run -----------------------------------------------
echo
echo "## (c) $WATCHERS watchers of one finished run of $N events (raw clients, serve-clients.py)"
printf 'watchers\tevents\tMB\twall_s\tevents_per_s\tserve_cpu_pct\n'
s0=$(proc_ticks "$NEW_PID") t0=$(now_us)
read -r w ev by wall < <("${PIN_C[@]}" /usr/bin/python3 "$CLIENTS" watchers "$(port_of "$NEW_URL")" m1 "$WATCHERS")
s1=$(proc_ticks "$NEW_PID") t1=$(now_us)
[ "$ev" -eq $((WATCHERS * (N + 4))) ] || { echo "watchers got $ev events" >&2; fail=1; }
printf '%s\t%s\t%.1f\t%s\t%.0f\t%.0f\n' "$w" "$ev" "$(bc -l <<<"$by/1000000")" "$wall" "$(bc -l <<<"$ev/$wall")" \
  "$(bc -l <<<"($s1-$s0)*100/$TICK/(($t1-$t0)/1000000)")"
printf 'serve VmRSS after the watchers: %.1f MB\n' "$(bc -l <<<"$(kb "$NEW_PID" VmRSS)/1024")"

# ---- (b) events/s to one client --------------------------------------------------------------
echo
echo "## (b) events/s to one client (wsflow watch / execute, $BIG events)"
printf 'what\tevents\twall_s\tevents_per_s\tserve_cpu_pct\n'
"$WSFLOW_BIN" execute big --url "$NEW_URL" --run-id big-live --config "$(cfg "$BIG")" -q >/dev/null  # warm-up + the run read back below
for what in live readback; do
  s0=$(proc_ticks "$NEW_PID") t0=$(now_us)
  if [ $what = live ]; then
    lines=$("${PIN_C[@]}" "$WSFLOW_BIN" execute big --url "$NEW_URL" --run-id big-2 --config "$(cfg "$BIG")" -q | wc -l)
  else
    lines=$("${PIN_C[@]}" "$WSFLOW_BIN" watch big-live --url "$NEW_URL" -q | wc -l)
  fi
  s1=$(proc_ticks "$NEW_PID") t1=$(now_us)
  [ "$lines" -eq $((BIG + 4)) ] || fail=1
  wall=$(bc -l <<<"($t1-$t0)/1000000")
  printf '%s\t%s\t%.2f\t%.0f\t%.0f\n' $what "$lines" "$wall" "$(bc -l <<<"$lines/$wall")" \
    "$(bc -l <<<"($s1-$s0)*100/$TICK/$wall")"
done

# ---- (e) flood of dropped connections --------------------------------------------------------
echo
echo "## (e) $FLOOD connections opened and dropped"
fd0=$(ls "/proc/$NEW_PID/fd" | wc -l) r0=$(kb "$NEW_PID" VmRSS)
/usr/bin/python3 "$CLIENTS" flood "$(port_of "$NEW_URL")" "$FLOOD"
for ((i = 0; i < 100; i++)); do [ "$(ls "/proc/$NEW_PID/fd" | wc -l)" -le "$fd0" ] && break; sleep 0.1; done
fd1=$(ls "/proc/$NEW_PID/fd" | wc -l) r1=$(kb "$NEW_PID" VmRSS)
printf 'fds before\tfds after\tVmRSS before KB\tVmRSS after KB\n%s\t%s\t%s\t%s\n' "$fd0" "$fd1" "$r0" "$r1"
[ "$fd1" -le "$fd0" ] || fail=1
stop "$NEW_PID"

# ---- (d) restart with a large data dir --------------------------------------------------------
echo
echo "## (d) restart on the data dir of (a): $(ls "$OUT/data" | grep -c run.json) runs, $(du -sm "$OUT/data" | cut -f1) MB"
printf 'binary\tlisten_ms\tfirst_runs_answer_ms\trss_MB\n'
restart() { # restart LABEL BIN DIR
  local label=$1 bin=$2 dir=$3 t0 t1 t2
  rm -f "$OUT/r.port"
  t0=$(now_us)
  "${PIN_S[@]}" "$bin" serve --port 0 --port-file "$OUT/r.port" --data-dir "$dir" -q 2>"$OUT/r.log" &
  local pid=$!; track $pid
  until [ -s "$OUT/r.port" ]; do kill -0 $pid || { cat "$OUT/r.log" >&2; exit 1; }; sleep 0.002; done
  t1=$(now_us)
  if [ "$label" = base ]; then
    "$WSFLOW_BIN" watch m0 --url "ws://127.0.0.1:$(cat "$OUT/r.port")" -q --tail 1 >/dev/null
  else
    "$WSFLOW_BIN" runs --url "ws://127.0.0.1:$(cat "$OUT/r.port")" --limit 1 >/dev/null
  fi
  t2=$(now_us)
  printf '%s\t%.0f\t%.0f\t%.1f\n' "$label" "$(bc -l <<<"($t1-$t0)/1000")" "$(bc -l <<<"($t2-$t0)/1000")" \
    "$(bc -l <<<"$(kb $pid VmRSS)/1024")"
  stop $pid
}
restart new "$WSFLOW_BIN" "$OUT/data"
if [ -n "$BASE_BIN" ] && [ -d "$OUT/data-base" ]; then restart base "$BASE_BIN" "$OUT/data-base"; fi
exit $fail
