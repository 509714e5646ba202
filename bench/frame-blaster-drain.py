#!/usr/bin/env python3
"""frame-blaster-drain.py - ../shared/bench/frame-blaster.py with one fix at the end of a connection.

Usage: frame-blaster-drain.py [frame-blaster.py arguments]    (SHARED_BENCH: where frame-blaster.py is)

frame-blaster.py ends each connection with `c.recv(64)` (meant to read the client's Close frame)
and close(). A client that sent more than 64 bytes before that leaves data unread in the server's
socket, so close() makes the kernel send a TCP RST instead of a FIN; the RST also makes the
client's kernel throw away the stream bytes the client had not read yet. wsflow sends its subscribe
request (an 81-83 byte frame) right after the upgrade, so against the unmodified blaster it sees
"Connection reset by peer" with up to several MB of the stream missing (it then reconnects and
resumes; with --connections 1 nobody answers). Clients that send nothing before their Close frame
(py-client.py, node-client.js) see no difference.

This wrapper runs frame-blaster.py unchanged except that `c.recv(64)` becomes drain(c): read and
skip the client's frames until its Close frame, end of stream, or the blaster's own 5 s timeout.
If frame-blaster.py no longer contains `c.recv(64)`, it runs unmodified.
"""
import os
import struct
import sys


def drain(c):
    """Read client frames until a Close frame (opcode 8) or EOF; socket timeouts propagate (OSError)."""
    buf = b""
    while True:
        while len(buf) >= 2:
            op, n, h = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, h = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, h = struct.unpack("!Q", buf[2:10])[0], 10
            h += 4 if buf[1] & 0x80 else 0
            if len(buf) < h + n:
                break
            if op == 8:
                return
            buf = buf[h + n:]
        chunk = c.recv(65536)
        if not chunk:
            return
        buf += chunk


here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(os.environ.get("SHARED_BENCH") or os.path.join(here, "..", "..", "shared", "bench"),
                    "frame-blaster.py")
src = open(path).read()
if src.count("c.recv(64)") == 1:
    src = src.replace("c.recv(64)", "drain(c)")
else:
    print("frame-blaster-drain: c.recv(64) not found in %s, running it unmodified" % path, file=sys.stderr)
sys.argv[0] = path
exec(compile(src, path, "exec"), {"__name__": "__main__", "__file__": path, "drain": drain})
