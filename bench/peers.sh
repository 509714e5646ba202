#!/usr/bin/env bash
# peers.sh - wsflow beside the peer WebSocket clients of ../shared/bench, same run, same server.
#
# Usage: bench/peers.sh            (any cwd)
#   1. ../shared/bench/bench-peers.sh --peer 'wsflow=WSFLOW_BIN watch r1 --url $URL -q'
#      throughput: event-server.js (node) streams COUNT events of SIZE bytes to each client RUNS times;
#      every output must be byte-exact (COUNT+1 lines). Table: $OUTDIR/peers/results.tsv
#   2. ../shared/bench/latency-probe.sh with the same peer: per-event delay at RATE events/s.
#      Table: $OUTDIR/peers/latency.tsv
#   wsflow connects to $URL/ws/r1 (it appends the run path); event-server.js accepts any path.
# Env: WSFLOW_BIN=<repo>/build/wsflow  SHARED_BENCH=<repo>/../shared/bench  OUTDIR=/dev/shm/wsflow-bench
#      COUNT=200000 SIZE=250 RUNS=5 PEERS='name ...' PIN=1   (passed to bench-peers.sh; see its header)
#      RATE=1000 SECONDS_=5 LAT_RUNS=1 LAT_PEERS='name ...'    (latency-probe.sh; RUNS there = LAT_RUNS)
#      SKIP_LATENCY=1 skips step 2.
# Exit status: 1 if a wsflow run failed its check (wrong output or exit status), else 0.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_BENCH=$(cd "${SHARED_BENCH:-$HERE/../../shared/bench}" && pwd)
WSFLOW_BIN=${WSFLOW_BIN:-$(dirname "$HERE")/build/wsflow}
[[ $WSFLOW_BIN == /* ]] || WSFLOW_BIN=$PWD/$WSFLOW_BIN
[ -x "$WSFLOW_BIN" ] || { echo "wsflow binary not found: $WSFLOW_BIN (set WSFLOW_BIN)" >&2; exit 2; }
OUT=${OUTDIR:-/dev/shm/wsflow-bench}/peers
mkdir -p "$OUT"
PEER="wsflow=$WSFLOW_BIN watch r1 --url \$URL -q"

echo "## throughput: bench-peers.sh (COUNT=${COUNT:-200000} SIZE=${SIZE:-250} RUNS=${RUNS:-5})"
# the shared runners own their servers (killed by their own EXIT trap); they run bounded:
# RUNS+1 runs per peer, and each client ends when the server closes.
OUTDIR=$OUT COUNT=${COUNT:-200000} SIZE=${SIZE:-250} RUNS=${RUNS:-5} \
  "$SHARED_BENCH/bench-peers.sh" --peer "$PEER"
fail=0
awk -F'\t' -v r="${RUNS:-5}" '$1 == "wsflow" && $NF != r "/" r { bad = 1 } END { exit bad }' "$OUT/results.tsv" ||
  { echo "peers.sh: some wsflow runs failed, see $OUT/wsflow.err" >&2; fail=1; }

if [ "${SKIP_LATENCY:-0}" != 1 ]; then
  echo; echo "## latency: latency-probe.sh (RATE=${RATE:-1000} SECONDS_=${SECONDS_:-5} SIZE=${SIZE:-250} RUNS=${LAT_RUNS:-1})"
  lat_env=(OUTDIR="$OUT" SIZE="${SIZE:-250}" RUNS="${LAT_RUNS:-1}")
  [ -z "${LAT_PEERS:-}" ] || lat_env+=(PEERS="$LAT_PEERS")
  env -u COUNT "${lat_env[@]}" "$SHARED_BENCH/latency-probe.sh" --peer "$PEER"
  awk -F'\t' '$1 == "wsflow" && $NF != "yes" { bad = 1 } END { exit bad }' "$OUT/latency.tsv" ||
    { echo "peers.sh: a wsflow latency run lost lines or failed, see $OUT/wsflow.err" >&2; fail=1; }
fi
exit "$fail"
