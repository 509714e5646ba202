#!/usr/bin/env bash
# Installs the dependencies, builds wsflow, starts the embedded backend (`wsflow serve`) and runs the
# demo workflow against it: its events arrive on stdout as NDJSON, its outcome is the exit status.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSFLOW_TESTS=OFF >/dev/null
ninja -C build wsflow >&2
port_file=$(mktemp); trap 'kill $server 2>/dev/null; rm -f "$port_file"' EXIT
build/wsflow serve --port 0 --port-file "$port_file" & server=$!
while [ ! -s "$port_file" ]; do kill -0 $server || exit 5; sleep 0.05; done
build/wsflow execute "write a short report" --auto-approve --url "ws://127.0.0.1:$(cat "$port_file")"
