#!/usr/bin/env bash
# many-runs.sh - one `wsflow watch --runs-from FILE` following RUNS runs of `wsflow serve` at once
# (issue 15): every run whole, max RSS, sockets and descriptors held, CPU per event; and the same
# events as one run, for the per-run and per-event cost beside the one-run figures.
#
# Usage: bench/many-runs.sh
# Env:   WSFLOW_BIN (default build/wsflow, copied so a rebuild cannot change it mid-run)
#        RUNS=1000 EVENTS=200 DELAY_MS=50 (each run: the `long` scenario, EVENTS events DELAY_MS apart)
#        OUTDIR=/dev/shm/wsflow-many-runs
# Placement: serve on CPU 0, the client on CPU 1 (taskset).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${WSFLOW_BIN:-$here/../build/wsflow}
RUNS=${RUNS:-1000} EVENTS=${EVENTS:-200} DELAY_MS=${DELAY_MS:-50}
OUTDIR=${OUTDIR:-/dev/shm/wsflow-many-runs}
mkdir -p "$OUTDIR"
cp "$bin" "$OUTDIR/wsflow.bin"
W=$OUTDIR/wsflow.bin
echo "# $("$W" --version), git $(git -C "$here" rev-parse --short HEAD), $(date -u +%FT%TZ), loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# RUNS=$RUNS EVENTS=$EVENTS DELAY_MS=$DELAY_MS"

rm -f "$OUTDIR/port"
taskset -c 0 "$W" serve --port 0 --port-file "$OUTDIR/port" -q &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUTDIR/port" ] && break; sleep 0.1; done
PORT=$(cat "$OUTDIR/port")
URL=ws://127.0.0.1:$PORT

one() {  # label, ids file, expected runs
  local label=$1 ids=$2 want=$3
  /usr/bin/time -f '%M %U %S %e' -o "$OUTDIR/time" taskset -c 1 "$W" watch --runs-from "$ids" --url "$URL" -q \
    --summary "$OUTDIR/summary.json" > "$OUTDIR/out.ndjson" &
  local tpid=$! fds=0 socks=0 pid
  sleep 1
  pid=$(pgrep -P "$tpid" -f "wsflow.bin watch" | head -1 || true)
  if [ -n "$pid" ]; then
    fds=$(ls /proc/"$pid"/fd | wc -l)
    socks=$(ls -l /proc/"$pid"/fd | grep -c socket || true)
  fi
  wait "$tpid" && rc=0 || rc=$?
  read -r rss_kb user sys wall < "$OUTDIR/time"
  local lines check
  lines=$(wc -l < "$OUTDIR/out.ndjson")
  # every run whole: seq 1..last with no gap or repeat, ending in workflow_completed
  check=$(python3 - "$OUTDIR/out.ndjson" "$want" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    runs.setdefault(e["run_id"], []).append(e)
ok = sum(1 for evs in runs.values()
         if [e["seq"] for e in evs] == list(range(1, len(evs) + 1)) and evs[-1]["event_type"] == "workflow_completed")
print("%d/%s" % (ok, sys.argv[2]))
PY
)
  printf '%-10s %5s %8s %9.1f %7.2f %8.2f %6s %6s %9s %4s\n' "$label" "$want" "$lines" "$(bc -l <<<"$rss_kb/1024")" \
    "$wall" "$(bc -l <<<"($user+$sys)*1000000/$lines")" "$fds" "$socks" "$check" "$rc"
}

printf '%-10s %5s %8s %9s %7s %8s %6s %6s %9s %4s\n' client runs events maxrss_MB wall_s cpu_us_ev fds socks whole exit
python3 "$here/start-runs.py" "$PORT" "$RUNS" "{\"scenario\":\"long\",\"events\":$EVENTS,\"delay_ms\":$DELAY_MS}" m > "$OUTDIR/ids"
one "$RUNS runs" "$OUTDIR/ids" "$RUNS"
# the same number of events in one run
python3 "$here/start-runs.py" "$PORT" 1 "{\"scenario\":\"long\",\"events\":$((RUNS * EVENTS)),\"delay_ms\":0}" s > "$OUTDIR/ids1"
one "1 run" "$OUTDIR/ids1" 1
