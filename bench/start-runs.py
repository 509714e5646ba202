#!/usr/bin/python3
"""start-runs.py - starts N runs on `wsflow serve` over one raw WebSocket connection (no library:
1,000 `wsflow execute --detach` processes would take longer than the runs), then closes it; the
runs go on in the server. Prints the run ids, one per line (what `wsflow watch --runs-from` reads).

  start-runs.py PORT N CONFIG_JSON [PREFIX]"""
import json
import socket
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from importlib import import_module  # noqa: E402

clients = import_module("serve-clients")


def main():
    port, n, config = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) > 4 else "m"
    sock = socket.create_connection(("127.0.0.1", port))
    clients.handshake(sock)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    ids = ["%s-%05d" % (prefix, i) for i in range(n)]
    for rid in ids:
        frame = {"type": "execute", "task": "bench", "config": config, "run_id": rid, "request_id": "x-" + rid}
        sock.sendall(clients.masked_text(json.dumps(frame).encode()))
    # wait for the n acks (a byte search), so every run exists before we print its id
    buf, acks = head.split(b"\r\n\r\n", 1)[1], 0
    while acks < n:
        acks = buf.count(b'"action":"execute"')
        if acks >= n:
            break
        chunk = sock.recv(1 << 16)
        if not chunk:
            sys.exit("start-runs.py: the server closed after %d of %d acks" % (acks, n))
        buf += chunk
    sock.close()
    print("\n".join(ids))


if __name__ == "__main__":
    main()
