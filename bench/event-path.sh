#!/usr/bin/env bash
# event-path.sh - wsflow's event path against the websocketpp floor and node `ws`, in one run:
# ../shared/bench/blaster-peers.sh with `wsflow watch r1 --url $URL -q` as a peer.
#
# Usage: bench/event-path.sh [more blaster-peers.sh arguments]
# Env:   WSFLOW_BIN (default: build/wsflow, copied to $OUTDIR so a rebuild cannot change it mid-run)
#        COUNT=1000000 SIZE=250 RUNS=3 PIN=1 OUTDIR=/dev/shm/blasterbench (blaster-peers.sh's knobs)
#        PEERS='wspp-floor-count wspp-floor node-ws wsflow' to choose (default: all of those)
# The table's x_floor column is msg/s ÷ wspp-floor's msg/s in the same run; ok = runs whose output
# was byte-exact (COUNT+1 lines, the last one workflow_completed) with exit 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_BENCH:-$here/../../shared/bench}
bin=${WSFLOW_BIN:-$here/../build/wsflow}
export OUTDIR=${OUTDIR:-/dev/shm/blasterbench}
mkdir -p "$OUTDIR"
cp "$bin" "$OUTDIR/wsflow.bin"
export PEERS=${PEERS:-wspp-floor-count wspp-floor node-ws wsflow}
echo "# wsflow: $("$OUTDIR/wsflow.bin" --version), sha256 $(sha256sum "$OUTDIR/wsflow.bin" | cut -c1-16), git $(git -C "$here" rev-parse --short HEAD)"
exec "$shared/blaster-peers.sh" --peer "wsflow=$OUTDIR/wsflow.bin watch r1 --url \$URL -q" "$@"
