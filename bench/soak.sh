#!/usr/bin/env bash
# soak.sh - one long run at a steady rate with a dropped connection every few minutes: does wsflow's
# memory stay flat, and does every event arrive exactly once?
#
# Usage: bench/soak.sh            (any cwd; an hour with the defaults; not part of CI)
#   serve --data-dir D --drop-every RATE*DROP_SECONDS (TCP dropped without a close frame, so
#   about every DROP_SECONDS), and `wsflow execute` of the built-in `long` scenario with
#   RATE*SOAK_SECONDS step_progress events paced by config.delay_ms = 1000/RATE (serve's pacing is
#   a timer per event, so the rate achieved is lower than RATE: the table says what it was).
#   The client's stdout goes to bench/soak-check.py, which counts every seq (lost, duplicated, out
#   of order). Every SAMPLE_SECONDS the RSS of the client and of serve is read from /proc.
# Env: SOAK_SECONDS=3600 RATE=1000 DROP_SECONDS=300 SAMPLE_SECONDS=10 WARMUP_SECONDS=60
#      WSFLOW_BIN=<repo>/build/wsflow OUTDIR=/dev/shm/wsflow-bench PIN=1
# Output: a table on stdout; samples in $OUTDIR/soak/rss.tsv (seconds, client kB, serve kB, lines
#   read so far). Do not read $OUTDIR/soak/stdout: it is a pipe, and a second reader steals lines.
# Exit status: 1 if the client's exit status was not 0, an event was lost or duplicated, or the
#   client's RSS after WARMUP_SECONDS moved by more than 1024 kB.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOAK_SECONDS=${SOAK_SECONDS:-3600} RATE=${RATE:-1000} DROP_SECONDS=${DROP_SECONDS:-300}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10} WARMUP_SECONDS=${WARMUP_SECONDS:-60}
N=$((SOAK_SECONDS * RATE)) EXPECTED=$((SOAK_SECONDS * RATE + 4)) DROP_EVERY=$((DROP_SECONDS * RATE))
DELAY_MS=$((1000 / RATE)); ((DELAY_MS >= 1)) || DELAY_MS=1
OUT=$OUTDIR/soak
rm -rf "$OUT" && mkdir -p "$OUT/data"

busy_warning
machine_line
echo "# SOAK_SECONDS=$SOAK_SECONDS RATE=$RATE (delay_ms $DELAY_MS) events=$EXPECTED DROP_EVERY=$DROP_EVERY events"
start_serve soak-serve -q --data-dir "$OUT/data" --drop-every "$DROP_EVERY"
mkfifo "$OUT/stdout"
/usr/bin/python3 "$BENCH_DIR/soak-check.py" "$EXPECTED" "$OUT/check" <"$OUT/stdout" &
CHECK_PID=$!; track "$CHECK_PID"
t0=$(now_us)
"${PIN_C[@]}" "$WSFLOW_BIN" execute soak --run-id soak --url "$SERVE_URL" -q --connection-events \
  --summary "$OUT/summary.json" --config "{\"scenario\":\"long\",\"events\":$N,\"delay_ms\":$DELAY_MS}" \
  </dev/null >"$OUT/stdout" 2>"$OUT/client.err" &
CLIENT_PID=$!; track "$CLIENT_PID"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
printf 'seconds\tclient_kB\tserve_kB\tlines\n' >"$OUT/rss.tsv"
while kill -0 "$CLIENT_PID" 2>/dev/null; do
  printf '%d\t%s\t%s\t%s\n' $((($(now_us) - t0) / 1000000)) "$(rss "$CLIENT_PID")" "$(rss "$SERVE_PID")" \
    "$(cut -d' ' -f1 "$OUT/check.progress" 2>/dev/null || echo 0)" >>"$OUT/rss.tsv"
  for ((i = 0; i < SAMPLE_SECONDS * 10; i++)); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
done
rc=0; wait "$CLIENT_PID" || rc=$?
wall=$((($(now_us) - t0) / 1000))
wait "$CHECK_PID" || true
serve_end=$(rss "$SERVE_PID")
stop "$SERVE_PID"
read -r lines events unique lost dups ooo extra client last <"$OUT/check"
reconnects=$(grep -o '"reconnects":[0-9]*' "$OUT/summary.json" 2>/dev/null | cut -d: -f2 || echo '?')

stats() { # stats COLUMN: after the warm-up: first, min, max, last, max-min (kB)
  awk -F'\t' -v c="$1" -v w="$WARMUP_SECONDS" 'NR > 1 && $1 >= w && $c > 0 {
      if (!n++) { f = $c; lo = $c; hi = $c } if ($c < lo) lo = $c; if ($c > hi) hi = $c; l = $c }
    END { if (n) printf "%d %d %d %d %d\n", f, lo, hi, l, hi - lo; else print "0 0 0 0 0" }' "$OUT/rss.tsv"
}
read -r c_first c_min c_max c_last c_spread < <(stats 2)
read -r s_first s_min s_max s_last s_spread < <(stats 3)
echo
echo "## soak: $EXPECTED events expected, wall $((wall / 1000)) s"
printf 'exit\tevents\tlost\tduplicated\tout_of_order\textra\treconnects\trate_per_s\tlast_event\n'
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rc" "$events" "$lost" "$dups" "$ooo" "$extra" "${reconnects:-?}" \
  "$(awk -v e="$events" -v w="$wall" 'BEGIN { printf "%.0f", e * 1000 / w }')" "$last"
echo
echo "## RSS after the first $WARMUP_SECONDS s (kB; sampled every $SAMPLE_SECONDS s, $OUT/rss.tsv)"
printf 'process\tfirst\tmin\tmax\tlast\tmax-min\n'
printf 'client\t%s\t%s\t%s\t%s\t%s\n' "$c_first" "$c_min" "$c_max" "$c_last" "$c_spread"
printf 'serve\t%s\t%s\t%s\t%s\t%s\n' "$s_first" "$s_min" "$s_max" "$s_last" "$s_spread"
echo "# serve RSS at the end, the run finished: $serve_end kB; data dir $(du -sh "$OUT/data" | cut -f1)"
[ -s "$OUT/client.err" ] && { echo "# client stderr (last 5 lines):"; tail -5 "$OUT/client.err" | sed 's/^/#   /'; }
fail=0
[ "$rc" = 0 ] && [ "$lost" = 0 ] && [ "$dups" = 0 ] && [ "$extra" = 0 ] || fail=1
((c_spread <= 1024)) || fail=1
echo "# result: $([ $fail = 0 ] && echo PASS || echo FAIL) (exit 0, 0 lost, 0 duplicated, client RSS within 1024 kB)"
exit "$fail"
