#!/usr/bin/env bash
# chaos.sh - what wsflow does when its backend fails under it: every event exactly once and the
# right exit status, or which of them it got wrong. Against wsflow serve on loopback.
#
# Usage: bench/chaos.sh [CASE...]   (any cwd; CASEs: kill term drop stop forever nodata close garbage
#                                    stall; default all, in that order; ~15 min)
#   Every client is `wsflow execute` of the built-in `long` scenario (N step_progress events, N+4
#   in all) with --connection-events; its stdout is checked seq by seq (bench/soak-check.py:
#   expected, printed, lost, duplicated). Columns: exit = wsflow's status, want = the status the
#   README's table gives for the case; verdict ok = exit is want and, where the run completed,
#   0 lost and 0 duplicated.
#     kill     serve (--data-dir) SIGKILLed KILLS times, evenly spaced over a paced run (1 ms an
#              event), restarted at once on the same port and data dir; REPS repetitions.
#              recover = kill -> wsflow's `reconnected` event (p50 / max over the kills); the note
#              says how much of it the restarted serve took to listen again (it reads its data dir)
#     term     the same with SIGTERM (serve closes with 1001 and exits)
#     drop     serve --drop-every 997 (TCP dropped, no close frame), DROP_N events at full speed;
#              recover = `disconnected` -> `reconnected`
#     stop     serve SIGSTOPped for STOP_SECONDS mid-run (half-open: found by ping/pong, PING below),
#              then SIGCONT; recover = stop -> `disconnected` (noticed) / SIGCONT -> `reconnected`
#     forever  serve SIGSTOPped for good, and in a second run SIGKILLed for good, client --retries 3:
#              recover = the fault -> wsflow's exit
#     nodata   serve SIGKILLed mid-run and restarted on the same port WITHOUT its data dir
#     close    serve --close-code C --drop-every 997 (a close frame mid-run), C = 1000 1001 1011 4000;
#              then --close-code C alone (closed after the terminal event)
#     garbage  serve --garbage-every 1000 (a frame that is not JSON), without and with --strict
#     stall    STALL_N events at full speed into a reader that sleeps STALL_SLEEP s before reading:
#              max RSS of wsflow (/usr/bin/time %M)
# Env: N=50000 KILLS=20 REPS=3 DROP_N=200000 STOP_SECONDS=30 STALL_N=1000000 STALL_SLEEP=60
#      RETRY='--retry-initial 200ms --retry-max-delay 2s'  PING='--ping-interval 2s --pong-timeout 1s'
#      WSFLOW_BIN=<repo>/build/wsflow OUTDIR=/dev/shm/wsflow-bench PIN=1 (serve CPU 0, client CPU 1)
# Output: the table on stdout (and $OUTDIR/chaos/table.tsv); each run's stdout, stderr and summary
#   in $OUTDIR/chaos/. Exit status: 1 if any row's verdict is not ok.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-50000} KILLS=${KILLS:-20} REPS=${REPS:-3} DROP_N=${DROP_N:-200000} STOP_SECONDS=${STOP_SECONDS:-30}
STALL_N=${STALL_N:-1000000} STALL_SLEEP=${STALL_SLEEP:-60}
read -r -a RETRY <<<"${RETRY:---retry-initial 200ms --retry-max-delay 2s}"
read -r -a PING <<<"${PING:---ping-interval 2s --pong-timeout 1s}"
CASES=${*:-kill term drop stop forever nodata close garbage stall}
OUT=$OUTDIR/chaos
rm -rf "$OUT" && mkdir -p "$OUT"
CHECK=$BENCH_DIR/soak-check.py
fail=0

cfg() { echo "{\"scenario\":\"long\",\"events\":$1,\"delay_ms\":$2}"; } # cfg EVENTS DELAY_MS
now_ms() { date +%s%3N; }
lines() { local n; n=$({ wc -l <"$1"; } 2>/dev/null) || n=0; echo "${n:-0}"; }

serve_at() { # serve_at NAME PORT DATA|- ARGS...: a serve on PORT (0: any); sets SPID SPORT
  local name=$1 port=$2 data=$3 pf=$OUT/$1.port; shift 3
  local dargs=(); [ "$data" = - ] || dargs=(--data-dir "$data")
  rm -f "$pf"
  "${PIN_S[@]}" "$WSFLOW_BIN" serve -q --port "$port" --port-file "$pf" "${dargs[@]}" "$@" 2>>"$OUT/$name.serve.log" &
  SPID=$!; track "$SPID"
  wait_for "$pf" '^[0-9]+$' "$SPID"
  SPORT=$(cat "$pf")
}
end_serve() { kill -CONT "$1" 2>/dev/null || true; stop "$1"; }

client() { # client NAME ARGS...: wsflow execute in the background against SPORT; sets CPID
  local name=$1; shift
  "${PIN_C[@]}" "$WSFLOW_BIN" execute chaos --run-id "$name" --url "ws://127.0.0.1:$SPORT" -q --connection-events \
    --summary "$OUT/$name.summary" "$@" </dev/null >"$OUT/$name.out" 2>"$OUT/$name.err" &
  CPID=$!; track "$CPID"
}
wait_lines() { # wait_lines FILE N PID: until FILE has N lines; false when PID ended first
  while (($(lines "$1") < $2)); do kill -0 "$3" 2>/dev/null || return 1; sleep 0.02; done
}
wait_client() { # wait_client [SECONDS]: CPID's exit status in RC (killed after SECONDS: RC=timeout)
  local i limit=$((${1:-600} * 10))
  for ((i = 0; i < limit; i++)); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$CPID" 2>/dev/null; then kill -9 "$CPID"; wait "$CPID" 2>/dev/null || true; RC=timeout; return; fi
  RC=0; wait "$CPID" || RC=$?
}
stats() { # p50/max of the numbers on stdin ("-": none found, counted)
  awk '$1 == "-" { miss++; next } { v[++n] = $1 }
    END { if (!n) { printf "-"; } else { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            printf "%d/%d", v[int((n + 1) / 2)], v[n] } if (miss) printf " (%d none)", miss }'
}
lastline() { tail -1 "$OUT/$1.err" 2>/dev/null | cut -c1-150; }

printf 'case\trep\texpected\tprinted\tlost\tdup\texit\twant\treconnects\trecover_ms\tverdict\tnote\n' | tee "$OUT/table.tsv"
row() { # row NAME CASE REP EXPECTED WANT RECOVER NOTE: checks NAME.out and prints the row
  local name=$1 expected=$4 want=$5 lines_ events unique lost dups ooo extra client last verdict=ok
  "$CHECK" "$expected" "$OUT/$name.check" <"$OUT/$name.out"
  read -r lines_ events unique lost dups ooo extra client last <"$OUT/$name.check"
  local rec; rec=$(grep -o '"reconnects":[0-9]*' "$OUT/$name.summary" 2>/dev/null | cut -d: -f2) || rec=-
  [ "$RC" = "$want" ] || verdict=WRONG
  if [ "$want" = 0 ] && { [ "$lost" != 0 ] || [ "$dups" != 0 ] || [ "$extra" != 0 ]; }; then verdict=WRONG; fi
  [ "$dups" = 0 ] || verdict=WRONG
  [ $verdict = ok ] || fail=1
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$expected" "$events" "$lost" "$dups" "$RC" "$want" \
    "${rec:--}" "$6" "$verdict" "$7" | tee -a "$OUT/table.tsv"
}

restart_case() { # restart_case CASE SIGNAL REP
  local name=$1-$3 data=$OUT/$1-$3.data k port
  mkdir -p "$data"
  serve_at "$name" 0 "$data"; port=$SPORT
  client "$name" --config "$(cfg "$N" 1)" "${RETRY[@]}"
  : >"$OUT/$name.marks"; : >"$OUT/$name.ready"
  for ((k = 1; k <= KILLS; k++)); do
    wait_lines "$OUT/$name.out" $((k * (N + 4) / (KILLS + 1))) "$CPID" || break
    local t0; t0=$(now_ms); echo "$t0" >>"$OUT/$name.marks"
    { kill -"$2" "$SPID"; wait "$SPID"; } 2>/dev/null || true
    serve_at "$name" "$port" "$data"
    echo $(($(date -r "$OUT/$name.port" +%s%3N) - t0)) >>"$OUT/$name.ready"  # the port file's mtime: listening
  done
  wait_client; end_serve "$SPID"
  row "$name" "$1" "$3" $((N + 4)) 0 "$(/usr/bin/python3 "$BENCH_DIR/conn-times.py" "$OUT/$name.out" reconnected "$OUT/$name.marks" | stats)" \
    "$(wc -l <"$OUT/$name.marks") x SIG$2; recover = signal -> reconnected; of which signal -> serve listening again $(stats <"$OUT/$name.ready")"
}

busy_warning
machine_line
echo "# N=$N KILLS=$KILLS REPS=$REPS DROP_N=$DROP_N STOP_SECONDS=$STOP_SECONDS STALL_N=$STALL_N STALL_SLEEP=$STALL_SLEEP RETRY=${RETRY[*]} PING=${PING[*]}"
for c in $CASES; do
  case $c in
    kill | term)
      sig=KILL; [ "$c" = term ] && sig=TERM
      for ((r = 1; r <= REPS; r++)); do restart_case "$c" "$sig" "$r"; done ;;
    drop)
      serve_at drop 0 - --drop-every 997
      client drop --config "$(cfg "$DROP_N" 0)" "${RETRY[@]}" --retries 0
      wait_client; end_serve "$SPID"
      row drop drop 1 $((DROP_N + 4)) 0 "$(/usr/bin/python3 "$BENCH_DIR/conn-times.py" "$OUT/drop.out" gaps | stats)" \
        "--drop-every 997; recover = disconnected -> reconnected" ;;
    stop)
      serve_at stop 0 -
      client stop --config "$(cfg 20000 1)" "${RETRY[@]}" "${PING[@]}"
      wait_lines "$OUT/stop.out" 2000 "$CPID" || true
      t_stop=$(now_ms); kill -STOP "$SPID"; echo "$t_stop" >"$OUT/stop.mark-stop"
      while (($(now_ms) < t_stop + STOP_SECONDS * 1000)); do sleep 0.1; done # the outage under test
      t_cont=$(now_ms); kill -CONT "$SPID"; echo "$t_cont" >"$OUT/stop.mark-cont"
      wait_client; end_serve "$SPID"
      noticed=$(/usr/bin/python3 "$BENCH_DIR/conn-times.py" "$OUT/stop.out" disconnected "$OUT/stop.mark-stop")
      rejoined=$(/usr/bin/python3 "$BENCH_DIR/conn-times.py" "$OUT/stop.out" reconnected "$OUT/stop.mark-cont")
      row stop stop 1 20004 0 "$noticed, $rejoined" "SIGSTOP ${STOP_SECONDS}s; recover = stop -> disconnected (noticed), SIGCONT -> reconnected" ;;
    forever)
      for how in STOP KILL; do
        name=forever-$how
        serve_at "$name" 0 -
        client "$name" --config "$(cfg 20000 1)" --retries 3 "${RETRY[@]}" "${PING[@]}"
        wait_lines "$OUT/$name.out" 1000 "$CPID" || true
        t0=$(now_ms)
        { kill -"$how" "$SPID"; [ "$how" = STOP ] || wait "$SPID"; } 2>/dev/null || true
        wait_client 300; t1=$(now_ms); end_serve "$SPID"
        row "$name" forever-$how 1 20004 5 "$((t1 - t0))" "SIG$how for good, --retries 3; recover = fault -> exit; stderr: $(lastline "$name")"
      done ;;
    nodata)
      mkdir -p "$OUT/nodata.data" "$OUT/nodata.empty"
      serve_at nodata 0 "$OUT/nodata.data"; port=$SPORT
      client nodata --config "$(cfg 20000 1)" "${RETRY[@]}"
      wait_lines "$OUT/nodata.out" 5000 "$CPID" || true
      { kill -KILL "$SPID"; wait "$SPID"; } 2>/dev/null || true
      serve_at nodata "$port" "$OUT/nodata.empty"
      wait_client 120; end_serve "$SPID"
      row nodata nodata 1 20004 7 - "restarted without its data dir; stderr: $(lastline nodata)" ;;
    close)
      for code in 1000 1001 1011 4000; do
        serve_at "close-$code" 0 - --close-code "$code" --drop-every 997
        client "close-$code" --config "$(cfg 20000 0)" "${RETRY[@]}" --retries 0
        wait_client 300; end_serve "$SPID"
        row "close-$code" "close-$code" 1 20004 0 "$(/usr/bin/python3 "$BENCH_DIR/conn-times.py" "$OUT/close-$code.out" gaps | stats)" \
          "close frame $code every 997 events; stderr: $(lastline "close-$code")"
        serve_at "close-end-$code" 0 - --close-code "$code"
        client "close-end-$code" --config "$(cfg 1000 0)" "${RETRY[@]}"
        wait_client 120; end_serve "$SPID"
        row "close-end-$code" "close-end-$code" 1 1004 0 - "close frame $code after the terminal event; stderr: $(lastline "close-end-$code")"
      done ;;
    garbage)
      for strict in "" --strict; do
        name=garbage${strict:+-strict}; want=0; [ -n "$strict" ] && want=4
        serve_at "$name" 0 - --garbage-every 1000
        client "$name" --config "$(cfg 20000 0)" "${RETRY[@]}" $strict
        wait_client 120; end_serve "$SPID"
        row "$name" "$name" 1 20004 "$want" - "--garbage-every 1000 $strict; $(wc -l <"$OUT/$name.err") stderr lines, last: $(lastline "$name")"
      done ;;
    stall)
      serve_at stall 0 -
      set +e
      "${PIN_C[@]}" /usr/bin/time -f '%M' -o "$OUT/stall.time" "$WSFLOW_BIN" execute chaos --url "ws://127.0.0.1:$SPORT" -q \
        --config "$(cfg "$STALL_N" 0)" </dev/null 2>"$OUT/stall.err" | (sleep "$STALL_SLEEP"; cat >"$OUT/stall.out")
      RC=${PIPESTATUS[0]}
      set -e
      end_serve "$SPID"
      row stall stall 1 $((STALL_N + 4)) 0 - "reader sleeps ${STALL_SLEEP}s first; max RSS $(($(tail -1 "$OUT/stall.time") / 1024)) MB" ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
done
exit "$fail"
