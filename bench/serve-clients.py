#!/usr/bin/python3
"""serve-clients.py - raw WebSocket clients for bench/serve.sh (no library: the clients must cost
less than the server they measure).

  serve-clients.py watchers PORT RUN N      N connections subscribe to RUN from seq 0 and read until
                                            its terminal event; prints: watchers events bytes wall_s
  serve-clients.py flood PORT N             N connections opened and dropped (RST): a third before
                                            the upgrade, a third mid-upgrade, a third after it
Frames are counted from their headers; each watcher checks it got seq 1..last in order by reading
the seq of every frame that has one (a byte search, not a JSON parse)."""
import base64
import os
import re
import selectors
import socket
import struct
import sys
import time

SEQ = re.compile(rb'"seq":(\d+)')


def handshake(sock, path="/ws"):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())


def masked_text(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Watcher:
    def __init__(self, port, run_id):
        self.sock = socket.create_connection(("127.0.0.1", port))
        handshake(self.sock)
        self.buf = b""
        self.upgraded = False
        self.next_seq = 1
        self.done = False
        self.events = 0
        self.bytes = 0
        self.request = masked_text(('{"type":"subscribe","run_id":"%s"}' % run_id).encode())

    def feed(self, data):
        self.bytes += len(data)
        self.buf += data
        if not self.upgraded:
            if b"\r\n\r\n" not in self.buf:
                return
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 101"), head[:80]
            self.upgraded = True
            self.sock.sendall(self.request)
        buf, at = self.buf, 0
        while len(buf) - at >= 2:
            n = buf[at + 1] & 0x7F
            h = 2
            if n == 126:
                if len(buf) - at < 4:
                    break
                n, h = struct.unpack_from("!H", buf, at + 2)[0], 4
            elif n == 127:
                if len(buf) - at < 10:
                    break
                n, h = struct.unpack_from("!Q", buf, at + 2)[0], 10
            if len(buf) - at < h + n:
                break
            payload = buf[at + h:at + h + n]
            at += h + n
            m = SEQ.search(payload, 0, 200)
            if m:
                seq = int(m.group(1))
                assert seq == self.next_seq, (seq, self.next_seq)
                self.next_seq += 1
                self.events += 1
                if b'"workflow_completed"' in payload[:60] or b'"workflow_failed"' in payload[:60]:
                    self.done = True
        self.buf = buf[at:]


def watchers(port, run_id, n):
    sel = selectors.DefaultSelector()
    ws = [Watcher(port, run_id) for _ in range(n)]
    t0 = time.monotonic()
    for w in ws:
        w.sock.setblocking(False)
        sel.register(w.sock, selectors.EVENT_READ, w)
    left = n
    while left:
        for key, _ in sel.select(60):
            w = key.data
            data = w.sock.recv(1 << 20)
            assert data, "a watcher's connection ended early"
            w.feed(data)
            if w.done:
                sel.unregister(w.sock)
                w.sock.close()
                left -= 1
    wall = time.monotonic() - t0
    print("%d %d %d %.3f" % (n, sum(w.events for w in ws), sum(w.bytes for w in ws), wall))


def flood(port, n):
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        if i % 3:
            handshake(c)
            if i % 3 == 2:
                c.recv(1024)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


if __name__ == "__main__":
    if sys.argv[1] == "watchers":
        watchers(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit("usage: serve-clients.py watchers PORT RUN N | flood PORT N")
