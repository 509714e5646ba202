#!/usr/bin/env bash
# resilience.sh - what faults cost wsflow, against its own backend (wsflow serve) on loopback.
#
# Usage: bench/resilience.sh            (any cwd)
#  (a) throughput with and without faults: `wsflow execute` of a long run (N step_progress events,
#      N+4 events in all) RUNS times through
#        clean      serve                          client: RETRY (below)
#        drop       serve --drop-every DROP_EVERY  client: RETRY
#        drop-fast  serve --drop-every DROP_EVERY  client: --retry-initial 1ms --retry-max-delay 1ms
#                   --retry-jitter none (the reconnect machinery without the backoff wait)
#      Every execute runs with --connection-events --summary. Afterwards both servers are restarted
#      WITHOUT faults on the same --data-dir and `wsflow watch` re-reads every run: the execute
#      output minus the client-made lines ("origin":"client") must be byte-identical (MD5) to it.
#  (b) reconnect cost, from the same drop runs:
#        wall per reconnect = (median wall of drop - median wall of clean) / reconnects (includes
#              serve's own drop mechanics: it polls every 5 ms until the N events left the kernel)
#        client CPU per reconnect = the same difference for wsflow's CPU time (user + sys)
#        gap = reconnected.timestamp - disconnected.timestamp of the client-made events (both stamped
#              by wsflow's own clock, ms resolution): loss noticed -> new connection subscribed;
#              it includes the backoff wait, which each disconnected event reports as data.delay_ms.
#  (c) memory under a stalled reader: `execute` of STALL_N events on a fault-free serve with stdout
#      into `(sleep STALL_SLEEP; wc -lc)`, versus the same into `wc -lc` at full speed; max RSS of
#      wsflow by /usr/bin/time -f %M; the reader reports lines and bytes (checked: STALL_N+4 lines).
# Env: N=500000 DROP_EVERY=1000 RUNS=3 STALL_N=1000000 STALL_SLEEP=5 MODES='clean drop drop-fast'
#      RETRY='--retry-initial 50ms --retry-max-delay 200ms --retries 50'
#      WSFLOW_BIN=<repo>/build/wsflow OUTDIR=/dev/shm/wsflow-bench PIN=1 (serve on CPU 0, client on CPU 1)
# Output: tables on stdout; per-run rows in $OUTDIR/resilience/{runs,stall}.tsv.
# Exit status: 1 if a run failed (exit status, line count, or not byte-identical to the re-read).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-500000} DROP_EVERY=${DROP_EVERY:-1000} RUNS=${RUNS:-3}
STALL_N=${STALL_N:-1000000} STALL_SLEEP=${STALL_SLEEP:-5} MODES=${MODES:-clean drop drop-fast}
read -r -a RETRY <<<"${RETRY:---retry-initial 50ms --retry-max-delay 200ms --retries 50}"
FAST_RETRY=(--retry-initial 1ms --retry-max-delay 1ms --retry-jitter none --retries 50)
OUT=$OUTDIR/resilience
rm -rf "$OUT" && mkdir -p "$OUT/data-clean" "$OUT/data-drop"
fail=0
config() { echo "{\"scenario\":\"long\",\"events\":$1}"; }

busy_warning
machine_line
echo "# N=$N DROP_EVERY=$DROP_EVERY RUNS=$RUNS STALL_N=$STALL_N STALL_SLEEP=$STALL_SLEEP RETRY=${RETRY[*]}"

# ---- (a) + (b) -------------------------------------------------------------------------------
start_serve clean -q --data-dir "$OUT/data-clean"; CLEAN_PID=$SERVE_PID CLEAN_URL=$SERVE_URL
start_serve drop -q --data-dir "$OUT/data-drop" --drop-every "$DROP_EVERY"; DROP_PID=$SERVE_PID DROP_URL=$SERVE_URL
printf 'mode\trun\twall_s\tevents\trss_kB\tclient_cpu_s\tsrv_cpu_s\tother_cpu_s\treconnects\texit\n' >"$OUT/runs.tsv"
: >"$OUT/md5.tsv"
for ((r = 0; r <= RUNS; r++)); do # run 0: warm-up, not in the tables (still checked)
  for mode in $MODES; do
    case $mode in
      clean) url=$CLEAN_URL spid=$CLEAN_PID retry=("${RETRY[@]}") ;;
      drop) url=$DROP_URL spid=$DROP_PID retry=("${RETRY[@]}") ;;
      drop-fast) url=$DROP_URL spid=$DROP_PID retry=("${FAST_RETRY[@]}") ;;
      *) echo "unknown mode $mode" >&2; exit 2 ;;
    esac
    id=$mode-$r base=$OUT/$mode-$r
    s0=$(proc_ticks "$spid"); b0=$(busy_ticks); t0=$(now_us); rc=0
    "${PIN_C[@]}" /usr/bin/time -f '%M %U %S' -o "$base.time" "$WSFLOW_BIN" execute bench --run-id "$id" --url "$url" \
      --config "$(config "$N")" -q --connection-events --summary "$base.summary" "${retry[@]}" \
      </dev/null >"$base.out" 2>"$base.err" || rc=$?
    t1=$(now_us); b1=$(busy_ticks); s1=$(proc_ticks "$spid")
    grep '"origin":"client"' "$base.out" >"$base.client" || true
    events=$(grep -vc '"origin":"client"' "$base.out" || true)
    echo "$id $(grep -v '"origin":"client"' "$base.out" | md5sum | cut -d' ' -f1) $events" >>"$OUT/md5.tsv"
    rm -f "$base.out"
    reconnects=$(grep -o '"reconnects":[0-9]*' "$base.summary" | cut -d: -f2 || echo '?')
    if [ "$rc" != 0 ] || [ "$events" != $((N + 4)) ]; then
      fail=1; echo "  $id FAILED: exit $rc, $events events; stderr: $(tail -c 300 "$base.err")" >&2
    fi
    read -r rss cu cs <"$base.time"
    row=$(awk -v m="$mode" -v r="$r" -v w=$((t1 - t0)) -v e="$events" -v rss="$rss" -v cu="$cu" -v cs="$cs" \
      -v sv=$((s1 - s0)) -v b=$((b1 - b0)) -v k="$TICK" -v rc="${reconnects:-?}" -v x="$rc" 'BEGIN {
        o = (b - sv) / k - cu - cs; if (o < 0) o = 0
        printf "%s\t%d\t%.3f\t%d\t%d\t%.2f\t%.2f\t%.2f\t%s\t%s\n", m, r, w / 1e6, e, rss, cu + cs, sv / k, o, rc, x }')
    echo "$row" >&2
    ((r == 0)) || echo "$row" >>"$OUT/runs.tsv"
  done
done
stop "$CLEAN_PID"; stop "$DROP_PID"

# byte-identity: fault-free servers over the same data dirs, watch every run again
start_serve reread-clean -q --data-dir "$OUT/data-clean"; RC_URL=$SERVE_URL RC_PID=$SERVE_PID
start_serve reread-drop -q --data-dir "$OUT/data-drop"; RD_URL=$SERVE_URL RD_PID=$SERVE_PID
identical=0 total=0
while read -r id sum events; do
  url=$RD_URL; [[ $id == clean-* ]] && url=$RC_URL
  rc=0; got=$("${PIN_C[@]}" "$WSFLOW_BIN" watch "$id" --url "$url" -q </dev/null | md5sum | cut -d' ' -f1) || rc=$?
  total=$((total + 1))
  if [ "$rc" = 0 ] && [ "$got" = "$sum" ]; then identical=$((identical + 1))
  else fail=1; echo "  $id: execute output differs from a fault-free watch (watch exit $rc)" >&2; fi
done <"$OUT/md5.tsv"
stop "$RC_PID"; stop "$RD_PID"
rm -rf "$OUT/data-clean" "$OUT/data-drop"

echo
echo "## (a) execute throughput, N=$N (+4 events), median of $RUNS runs (after 1 warm-up)"
echo "# byte-identical to a fault-free watch afterwards: $identical of $total runs (warm-ups included)"
awk -F'\t' 'NR > 1 { n = $1; k = ++c[n]; w[n, k] = $3; row[n, k] = $0; if ($5 > rss[n]) rss[n] = $5
    if (!(n in seen)) { seen[n] = 1; order[++m] = n } }
  END {
    printf "mode\tmedian_s\tmin_s\tmax_s\tevents_per_s\tmax_rss_MB\tclient_cpu%%\tsrv_cpu%%\tother_cpu%%\treconnects\tvs_clean\n"
    for (i = 1; i <= m; i++) { n = order[i]
      for (a = 1; a <= c[n]; a++) idx[a] = a
      for (a = 1; a <= c[n]; a++) for (z = a + 1; z <= c[n]; z++) if (w[n, idx[z]] < w[n, idx[a]]) { t = idx[a]; idx[a] = idx[z]; idx[z] = t }
      split(row[n, idx[int((c[n] + 1) / 2)]], f, "\t"); med[n] = f[3]
      if (i == 1) base = f[3]
      printf "%s\t%.3f\t%.3f\t%.3f\t%.0f\t%.1f\t%.0f\t%.0f\t%.0f\t%s\t%.2f\n", n, f[3], w[n, idx[1]], w[n, idx[c[n]]],
        f[4] / f[3], rss[n] / 1024, 100 * f[6] / f[3], 100 * f[7] / f[3], 100 * f[8] / f[3], f[9], base / f[3] }
  }' "$OUT/runs.tsv" | tee "$OUT/throughput.tsv" | column -t -s $'\t'

echo
echo "## (b) reconnect cost (runs 1..$RUNS of each drop mode)"
/usr/bin/python3 - "$OUT" "$RUNS" "$DROP_EVERY" $MODES <<'EOF' | column -t -s $'\t'
import csv, json, statistics, sys
from datetime import datetime
out, runs, every, modes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rows = list(csv.DictReader(open(out + "/runs.tsv"), delimiter="\t"))
wall = lambda m: statistics.median_low([float(r["wall_s"]) for r in rows if r["mode"] == m] or [float("nan")])
ts = lambda e: datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
cpu = lambda m: statistics.median_low([float(r["client_cpu_s"]) for r in rows if r["mode"] == m] or [float("nan")])
print("mode\treconnects/run\twall_per_reconnect_ms\tclient_cpu_per_reconnect_ms\tgap_p50_ms\tgap_p90_ms\tgap_max_ms"
      "\tdelay_ms_p50\tgap_minus_delay_p50_ms\tevents_per_connection_p50")
for m in modes:
    if m == "clean":
        continue
    gaps, delays, over, recs, per_conn = [], [], [], [], []
    for r in range(1, runs + 1):
        ev = [json.loads(l) for l in open("%s/%s-%d.client" % (out, m, r))]
        recs.append(sum(e["event_type"] == "reconnected" for e in ev))
        pending, last = None, 0
        for e in ev:
            if e["event_type"] == "disconnected":
                if not pending:  # the first loss of a series of failed attempts
                    pending = e
                    per_conn.append(e["data"]["last_seq"] - last); last = e["data"]["last_seq"]
            elif e["event_type"] == "reconnected" and pending:
                g = ts(e) - ts(pending); gaps.append(g); d = pending["data"]["delay_ms"]
                delays.append(d); over.append(g - d); pending = None
    gaps.sort()
    q = lambda p: gaps[min(len(gaps) - 1, int(p * len(gaps)))] if gaps else float("nan")
    nrec = statistics.median_low(recs)
    per = (wall(m) - wall("clean")) * 1000 / nrec if nrec else float("nan")
    cpr = (cpu(m) - cpu("clean")) * 1000 / nrec if nrec else float("nan")
    med = lambda v: statistics.median(v) if v else float("nan")
    print("%s\t%d\t%.1f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f" % (m, nrec, per, cpr, q(.5), q(.9), gaps[-1] if gaps else float("nan"),
          med(delays), med(over), med(per_conn)))
EOF
echo "# wall_per_reconnect = (median wall of the mode - median wall of clean) / reconnects: everything a drop costs"
echo "#   end to end (lost in-flight events re-sent, backoff wait, TCP + upgrade + subscribe, catching up)."
echo "# gap = reconnected.ts - disconnected.ts (wsflow's clock, 1 ms resolution), delay_ms = the backoff"
echo "#   wait wsflow chose (full jitter under --retry-initial); gap - delay = connect + upgrade + resubscribe."
echo "# client_cpu_per_reconnect = (median client CPU of the mode - of clean) / reconnects: wsflow's own work per drop."
echo "# events_per_connection = new events a connection delivered before it was dropped."

# ---- (c) --------------------------------------------------------------------------------------
echo
echo "## (c) memory under a stalled reader, STALL_N=$STALL_N (+4 events), reader sleeps ${STALL_SLEEP}s first"
start_serve stall -q; ST_URL=$SERVE_URL ST_PID=$SERVE_PID
printf 'reader\trun\twall_s\trss_kB\tlines\tbytes\texit\n' >"$OUT/stall.tsv"
for ((r = 1; r <= RUNS; r++)); do
  for reader in full-speed stalled; do
    base=$OUT/stall-$reader-$r; t0=$(now_us)
    set +e # the pipeline's status is checked below, through PIPESTATUS
    if [ "$reader" = stalled ]; then
      "${PIN_C[@]}" /usr/bin/time -f '%M' -o "$base.time" "$WSFLOW_BIN" execute bench --url "$ST_URL" -q \
        --config "$(config "$STALL_N")" </dev/null 2>"$base.err" | (sleep "$STALL_SLEEP"; wc -lc) >"$base.wc"
    else
      "${PIN_C[@]}" /usr/bin/time -f '%M' -o "$base.time" "$WSFLOW_BIN" execute bench --url "$ST_URL" -q \
        --config "$(config "$STALL_N")" </dev/null 2>"$base.err" | wc -lc >"$base.wc"
    fi
    rc=${PIPESTATUS[0]} t1=$(now_us)
    set -e
    read -r lines bytes <"$base.wc"
    if [ "$rc" != 0 ] || [ "$lines" != $((STALL_N + 4)) ]; then
      fail=1; echo "  stall $reader $r FAILED: exit $rc, $lines lines; $(tail -c 300 "$base.err")" >&2
    fi
    printf '%s\t%d\t%.3f\t%d\t%d\t%d\t%d\n' "$reader" "$r" "$(awk -v w=$((t1 - t0)) 'BEGIN { print w / 1e6 }')" \
      "$(tail -1 "$base.time")" "$lines" "$bytes" "$rc" | tee -a "$OUT/stall.tsv" >&2
  done
done
echo "# serve RSS after the stall runs: $(($(awk '/VmRSS/ { print $2 }' "/proc/$ST_PID/status") / 1024)) MB (it keeps every run in memory)"
stop "$ST_PID"
awk -F'\t' 'NR > 1 { n = $1; if (!(n in seen)) { seen[n] = 1; o[++m] = n }
    c[n]++; if ($4 > rss[n]) rss[n] = $4; if (!(n in lo) || $4 < lo[n]) lo[n] = $4; by[n] = $6; ws[n] = ws[n] " " $3 }
  END { printf "reader\tmax_rss_MB\tmin_rss_MB\toutput_MB\tmax_rss/output\twall_s(each run)\n"
    for (i = 1; i <= m; i++) { n = o[i]
      printf "%s\t%.1f\t%.1f\t%.1f\t%.3f\t%s\n", n, rss[n] / 1024, lo[n] / 1024, by[n] / 1e6, rss[n] * 1024 / by[n], ws[n] } }' \
  "$OUT/stall.tsv" | column -t -s $'\t'
exit "$fail"
