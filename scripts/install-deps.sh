#!/usr/bin/env bash
# Installs what building and testing wsflow needs on Debian 12 (idempotent; uses sudo when not root).
# --no-install-recommends: otherwise libwebsocketpp-dev brings ~160 MB of Boost.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
pkgs=(g++ cmake ninja-build pkg-config libwebsocketpp-dev libasio-dev rapidjson-dev libcli11-dev catch2 libssl-dev
      zlib1g-dev libre2-dev python3 python3-websockets procps groff-base bash-completion zsh fish dpkg-dev tinyproxy
      clang libclang-rt-14-dev) # fuzz/: clang, and libFuzzer's runtime (only a Recommends of clang)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The peer server of the end-to-end tests (node `ws`) comes with the shared bench, when it is there.
bench="$here/../../shared/bench/setup.sh"
if [ -x "$bench" ] || [ -f "$bench" ]; then
  $SUDO bash "$bench" || echo "install-deps: shared bench setup failed; the peer-server test will be skipped" >&2
fi
