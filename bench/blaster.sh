#!/usr/bin/env bash
# blaster.sh - wsflow throughput against frame-blaster.py, the load server that is faster than the
# node event-server (pre-framed events pushed at kernel speed), beside python-websockets and node-ws.
#
# Usage: bench/blaster.sh            (any cwd)
#   Starts one frame-blaster per client run (it serves --connections 1), through
#   frame-blaster-drain.py (same server; reads the client's frames up to its Close before closing,
#   see that file: the unmodified blaster resets connections of clients that send a request).
#   Each run: blaster on CPU 0, client on CPU 1 (PIN=1), client stdout to a file on $OUTDIR.
#   Clients, in this order in every run (run 0 is a discarded warm-up):
#     wsflow             WSFLOW_BIN watch r1 --url $URL -q       (connects to $URL/ws/r1)
#     python-websockets  /usr/bin/python3 ../shared/bench/py-client.py $URL
#     node-ws            node ../shared/bench/node-client.js $URL
#   Checks per run: exit 0, COUNT+1 lines, last line is workflow_completed, size and MD5 equal to a
#   reference decoded from the blaster by a raw-socket frame decoder (independent of the clients).
# Env: COUNT=1000000 SIZE=250 RUNS=5 CLIENTS='wsflow python-websockets node-ws' PIN=1
#      WSFLOW_BIN=<repo>/build/wsflow SHARED_BENCH=<repo>/../shared/bench OUTDIR=/dev/shm/wsflow-bench
#      PEERBENCH_PREFIX=/tmp/peerbench (npm ws for node-client.js; ../shared/bench/setup.sh installs it)
# Table ($OUTDIR/blaster/results.tsv): wall s = median (min) over RUNS, from client start to exit;
#   msg/s and MB/s (output bytes) at the median; max RSS over runs (/usr/bin/time %M);
#   client/srv/other cpu% = CPU time of the client, of the blaster, and of everything else on the
#   machine over the wall time, % of one core, at the median run (other well above ~30: noisy run);
#   x wsflow = wsflow msg/s / this client's msg/s; ok = runs that passed the checks.
# Exit status: 1 if any run failed its checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
COUNT=${COUNT:-1000000} SIZE=${SIZE:-250} RUNS=${RUNS:-5}
CLIENTS=${CLIENTS:-wsflow python-websockets node-ws}
export PEERBENCH_PREFIX=${PEERBENCH_PREFIX:-/tmp/peerbench} SHARED_BENCH
OUT=$OUTDIR/blaster
mkdir -p "$OUT"
"$SHARED_BENCH/setup.sh"

client_cmd() { # client_cmd NAME URL: sets CMD=(argv)
  case $1 in
    wsflow) CMD=("$WSFLOW_BIN" watch r1 --url "$2" -q) ;;
    python-websockets) CMD=(/usr/bin/python3 "$SHARED_BENCH/py-client.py" "$2") ;;
    node-ws) CMD=(node "$SHARED_BENCH/node-client.js" "$2") ;;
    *) echo "unknown client $1" >&2; exit 2 ;;
  esac
}

# start_blaster: a fresh blaster (under /usr/bin/time, for its CPU) on CPU 0; sets URL BL_PID BL_TICKS0
start_blaster() {
  rm -f "$OUT/blaster.log" "$OUT/blaster.time"
  "${PIN_S[@]}" /usr/bin/time -f '%U %S' -o "$OUT/blaster.time" \
    /usr/bin/python3 "$BENCH_DIR/frame-blaster-drain.py" --count "$COUNT" --size "$SIZE" --connections 1 2>"$OUT/blaster.log" &
  BL_PID=$!; track "$BL_PID"
  wait_for "$OUT/blaster.log" '^listening [0-9]+' "$BL_PID" 1200
  URL=ws://127.0.0.1:$(awk '/^listening/ { print $2 }' "$OUT/blaster.log")
  BL_TICKS0=$(proc_ticks "$(pgrep -P "$BL_PID" | head -1)")
}
# finish_blaster: waits for it to end (it waits <= 5 s for the client's Close); sets BL_CPU (s, push phase)
finish_blaster() {
  local i u s
  for ((i = 0; i < 200; i++)); do kill -0 "$BL_PID" 2>/dev/null || break; sleep 0.05; done
  stop "$BL_PID"
  read -r u s <"$OUT/blaster.time" 2>/dev/null || { u=0 s=0; }
  BL_CPU=$(awk -v u="$u" -v s="$s" -v t0="$BL_TICKS0" -v k="$TICK" 'BEGIN { printf "%.2f", u + s - t0 / k }')
}

busy_warning
machine_line | tee "$OUT/results.head"
echo "# COUNT=$COUNT SIZE=$SIZE RUNS=$RUNS clients: $CLIENTS; node $(node -v)," \
  "py-websockets $(/usr/bin/python3 -c 'import websockets; print(websockets.__version__)')" | tee -a "$OUT/results.head"

# reference: decode the blaster's stream with a minimal raw-socket reader (no client library)
start_blaster
/usr/bin/python3 - "${URL#ws://}" >"$OUT/reference" <<'EOF'
import hashlib, socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /ws/r1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]
md5, size, lines, last, pos = hashlib.md5(), 0, 0, b"", 0
while True:
    while True:  # decode every complete frame in buf[pos:]
        if len(buf) - pos < 2:
            break
        op, n, h = buf[pos] & 15, buf[pos + 1] & 127, 2
        if n == 126:
            n, h = (struct.unpack_from("!H", buf, pos + 2)[0], 4) if len(buf) - pos >= 4 else (-1, 0)
        elif n == 127:
            n, h = (struct.unpack_from("!Q", buf, pos + 2)[0], 10) if len(buf) - pos >= 10 else (-1, 0)
        if n < 0 or len(buf) - pos < h + n:
            break
        if op == 8:
            s.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # masked Close 1000, mask key 0
            print(size, lines, md5.hexdigest(), b'"workflow_completed"' in last)
            sys.exit(0)
        last = buf[pos + h:pos + h + n] + b"\n"
        md5.update(last); size += len(last); lines += 1
        pos += h + n
    buf = buf[pos:]; pos = 0
    chunk = s.recv(1 << 20)
    if not chunk:
        sys.exit("reference: stream ended without a Close frame")
    buf += chunk
EOF
finish_blaster
read -r REF_BYTES REF_LINES REF_MD5 REF_LAST <"$OUT/reference"
if [ "$REF_LINES" != $((COUNT + 1)) ] || [ "$REF_LAST" != True ]; then
  echo "bad reference: $(cat "$OUT/reference")" >&2; exit 1
fi
echo "# reference: $REF_LINES lines, $REF_BYTES bytes, md5 $REF_MD5" | tee -a "$OUT/results.head"

printf 'client\trun\twall_s\trss_kB\tclient_cpu_s\tsrv_cpu_s\tother_cpu_s\tok\n' >"$OUT/runs.tsv"
fail=0
for ((r = 0; r <= RUNS; r++)); do
  for name in $CLIENTS; do
    start_blaster
    client_cmd "$name" "$URL"
    b0=$(busy_ticks); t0=$(now_us)
    rc=0
    "${PIN_C[@]}" /usr/bin/time -f '%M %U %S' -o "$OUT/client.time" "${CMD[@]}" \
      </dev/null >"$OUT/$name.out" 2>"$OUT/$name.err" || rc=$?
    t1=$(now_us); b1=$(busy_ticks)
    finish_blaster
    read -r rss cu cs < <(tail -1 "$OUT/client.time")
    lines=$(wc -l <"$OUT/$name.out"); bytes=$(stat -c %s "$OUT/$name.out")
    ok=1
    if [ "$rc" != 0 ] || [ "$lines" != "$REF_LINES" ] || [ "$bytes" != "$REF_BYTES" ] ||
      ! tail -1 "$OUT/$name.out" | grep -q '"event_type":"workflow_completed"' ||
      [ "$(md5sum <"$OUT/$name.out" | cut -d' ' -f1)" != "$REF_MD5" ]; then
      ok=0; fail=1
      echo "  $name run $r FAILED: rc=$rc lines=$lines bytes=$bytes; stderr: $(tail -c 300 "$OUT/$name.err")" >&2
    fi
    row=$(awk -v n="$name" -v r="$r" -v w=$((t1 - t0)) -v rss="$rss" -v cu="$cu" -v cs="$cs" -v sv="$BL_CPU" \
      -v b=$((b1 - b0)) -v k="$TICK" -v ok="$ok" 'BEGIN { o = b / k - cu - cs - sv; if (o < 0) o = 0
        printf "%s\t%d\t%.3f\t%d\t%.2f\t%.2f\t%.2f\t%d\n", n, r, w / 1e6, rss, cu + cs, sv, o, ok }')
    echo "$row" >&2
    ((r == 0)) || echo "$row" >>"$OUT/runs.tsv" # run 0: warm-up
    rm -f "$OUT/$name.out"
  done
done

# summary: median run per client, then wsflow's msg/s over each client's
awk -F'\t' -v c="$REF_LINES" -v b="$REF_BYTES" -v runs="$RUNS" 'NR > 1 {
    n = $1; k = ++cnt[n]; w[n, k] = $3; row[n, k] = $0; if ($4 > rss[n]) rss[n] = $4; ok[n] += $8
    if (!(n in seen)) { seen[n] = 1; order[++m] = n } }
  END {
    printf "client\tmedian_s\tmin_s\tmsg_per_s\tMB_per_s\tmax_rss_MB\tclient_cpu%%\tsrv_cpu%%\tother_cpu%%\tx_wsflow\tok\n"
    for (i = 1; i <= m; i++) { n = order[i]
      for (a = 1; a <= cnt[n]; a++) idx[a] = a   # sort runs by wall time
      for (a = 1; a <= cnt[n]; a++) for (z = a + 1; z <= cnt[n]; z++) if (w[n, idx[z]] < w[n, idx[a]]) { t = idx[a]; idx[a] = idx[z]; idx[z] = t }
      med = idx[int((cnt[n] + 1) / 2)]; split(row[n, med], f, "\t"); x = f[3]
      mw[n] = x; mn[n] = w[n, idx[1]]; cpu[n] = f[5]; srv[n] = f[6]; oth[n] = f[7] }
    for (i = 1; i <= m; i++) { n = order[i]; x = mw[n]
      printf "%s\t%.3f\t%.3f\t%.0f\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%s\t%d/%d\n", n, x, mn[n], c / x, b / x / 1e6, rss[n] / 1024,
        100 * cpu[n] / x, 100 * srv[n] / x, 100 * oth[n] / x, ("wsflow" in mw) ? sprintf("%.2f", x / mw["wsflow"]) : "-", ok[n], runs }
  }' "$OUT/runs.tsv" >"$OUT/results.tsv"
echo; cat "$OUT/results.head"; column -t -s $'\t' "$OUT/results.tsv"
exit "$fail"
