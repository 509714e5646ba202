"""Issue 14: serve keeps runs on disk, fans them out to many watchers with a bounded queue each, lists
them (`wsflow runs`, `wsflow status`), restarts without reading its history, and survives hostile
input. Raw WebSocket clients (python3-websockets, and a few raw frames) check what the server sends."""
import asyncio
import base64
import glob
import json
import os
import signal
import socket
import struct
import time

import websockets

from wsflow_e2e import Server, assert_seq_complete, execute, parse_ndjson, read_until, scale, start, tmpdir, wait_for, wsflow

FAST = '{"delay_ms":1}'


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def long_config(n, delay_ms=0):
    return '{"scenario":"long","events":%d,"delay_ms":%d}' % (n, delay_ms)


class RawWs:
    """A WebSocket client that sends any bytes it is told to (invalid UTF-8, huge frames) and
    reads frames one by one."""

    def __init__(self, port, path="/ws"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, payload, opcode=1, declared=None):
        """Sends one frame. With declared, the header announces that many payload bytes and only
        payload follows: the server must judge the frame from its header alone."""
        mask = os.urandom(4)
        n = len(payload) if declared is None else declared
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        k = len(payload)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if k < 65536 else \
            (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (k // 4 + 1))[:k], "big")).to_bytes(k, "big")
        self.sock.sendall(header + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection ended")
            self.buf += chunk

    def recv(self):
        """(opcode, payload) of the next frame."""
        self._need(2)
        op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        at = 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return op, payload

    def close_code(self):
        """Reads until the close frame; its status code."""
        while True:
            op, payload = self.recv()
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------

def test_200_watchers_each_get_the_whole_stream():
    n = scale(2000)
    with Server() as s:
        r = wsflow("execute", "fan", "--url", s.url, "--run-id", "fan", "--config", long_config(n, 1), "--detach")
        assert r.rc == 0, r

        async def watcher():
            async with websockets.connect(s.url + "/ws", max_size=None) as ws:
                await ws.send(json.dumps({"type": "subscribe", "run_id": "fan"}))
                seqs = []
                while True:
                    f = json.loads(await ws.recv())
                    if "seq" in f:
                        seqs.append(f["seq"])
                        if f["event_type"] == "workflow_completed":
                            return seqs

        async def all_of_them():
            return await asyncio.gather(*(watcher() for _ in range(200)))

        results = run(all_of_them(), 300)
    assert len(results) == 200
    for seqs in results:
        assert seqs == list(range(1, n + 5))


def test_one_connection_follows_1000_runs_and_gets_every_event_of_each():
    n = scale(20)
    with Server() as s:
        async def go():
            async with websockets.connect(s.url + "/ws", max_size=None) as ws:
                for i in range(1000):
                    await ws.send(json.dumps({"type": "execute", "task": "t", "run_id": "m%d" % i,
                                              "config": json.loads(long_config(n, 1))}))
                seqs, ended = {}, set()
                while len(ended) < 1000:
                    f = json.loads(await ws.recv())
                    if "seq" not in f:
                        continue
                    seqs.setdefault(f["run_id"], []).append(f["seq"])
                    if f["event_type"] == "workflow_completed":
                        ended.add(f["run_id"])
                return seqs

        seqs = run(go(), 300)
    assert len(seqs) == 1000
    for run_id, got in seqs.items():
        assert got == list(range(1, n + 5)), run_id


def test_slow_watcher_is_closed_and_resumes_without_loss():
    n = 100000  # not scaled: the stream must be much larger than the socket buffers and the queue
    with Server("--slow-reader-timeout", "1s", "-v") as s:
        r = wsflow("execute", "slow", "--url", s.url, "--run-id", "slow", "--config", long_config(n), "--detach")
        assert r.rc == 0, r
        wait_for(lambda: json.loads(wsflow("status", "slow", "--url", s.url).out)["outcome"] == "completed", 60,
                 "the run to end")

        async def go():
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            sock.connect(("127.0.0.1", s.port))
            seqs = []
            ws = await websockets.connect(s.url + "/ws", sock=sock, max_queue=1, max_size=None,
                                          close_timeout=30)
            await ws.send(json.dumps({"type": "subscribe", "run_id": "slow"}))
            # does not read: the server's queue for it fills and stays full
            await asyncio.sleep(0)
            deadline = time.monotonic() + 30
            while "closing a connection that read nothing" not in s.stderr():
                assert time.monotonic() < deadline, "the slow reader was not closed"
                await asyncio.sleep(0.05)
            try:
                while True:
                    f = json.loads(await ws.recv())
                    if "seq" in f:
                        seqs.append(f["seq"])
            except websockets.ConnectionClosed:
                pass
            code = ws.close_code
            # it resumes where it stopped
            async with websockets.connect(s.url + "/ws", max_size=None) as again:
                await again.send(json.dumps({"type": "subscribe", "run_id": "slow", "since_seq": seqs[-1]}))
                while True:
                    f = json.loads(await again.recv())
                    if "seq" in f:
                        seqs.append(f["seq"])
                        if f["event_type"] == "workflow_completed":
                            break
            return code, seqs

        code, seqs = run(go(), 120)
        assert code == 1013, code
        assert seqs == list(range(1, n + 5))
        assert "backpressure" in s.stderr()


def test_wsflow_watch_survives_a_slow_reader_close():
    n = 60000  # not scaled, as above
    with Server("--slow-reader-timeout", "500ms") as s:
        r = wsflow("execute", "w", "--url", s.url, "--run-id", "w", "--config", long_config(n), "--detach")
        assert r.rc == 0, r
        p = start("watch", "w", "--url", s.url, "--retry-initial", "50ms", "--retry-max-delay", "200ms")
        time.sleep(3)  # the reader stalls: nothing is read while serve's queue for it stays full
        out = p.stdout.read()
        p.wait(timeout=120)
        err = p.stderr.read().decode()
        assert p.returncode == 0, err
        events = parse_ndjson(out)
        assert len(events) == n + 4
        assert_seq_complete(events)


def test_restart_with_data_dir_lists_and_reads_back_without_reading_first():
    data = tmpdir()
    n = scale(5000)
    s = Server(data_dir=data)
    outs = {}
    for i in range(5):
        r = execute(s.url, "--config", long_config(n), "--run-id", "done-%d" % i)
        assert r.rc == 0, r
        outs["done-%d" % i] = r.out
    p = start("execute", "t", "--url", s.url, "--config", FAST, "--run-id", "gate")
    read_until(p, b"approval_requested")
    p.kill()
    p.wait()
    port = s.port
    s.stop()
    assert sorted(os.path.basename(f) for f in glob.glob(os.path.join(data, "*.end.json"))) == \
        ["done-%d.end.json" % i for i in range(5)]
    s2 = Server(port=port, data_dir=data)
    try:
        runs = wsflow("runs", "--url", s2.url)
        assert runs.rc == 0, runs
        listed = runs.events
        assert [r["run_id"] for r in listed] == ["gate", "done-4", "done-3", "done-2", "done-1", "done-0"]
        assert listed[0]["state"] == "waiting" and listed[0]["outcome"] is None
        assert all(r["state"] == "completed" and r["last_seq"] == n + 4 for r in listed[1:])
        for run_id, out in outs.items():  # any of them reads back whole, byte for byte
            w = wsflow("watch", run_id, "--url", s2.url)
            assert w.rc == 0 and w.out == out, run_id
        st = wsflow("status", "gate", "--url", s2.url)
        assert st.rc == 0, st
        assert [a["approval_id"] for a in json.loads(st.out)["approvals"]] == ["approval-s3"]
        done = wsflow("watch", "gate", "--url", s2.url, "--auto-approve")
        assert done.rc == 0, done
        assert_seq_complete(done.events)
        assert done.events[-1]["event_type"] == "workflow_completed"
    finally:
        s2.stop()


def test_temporary_data_dir_is_removed_on_exit():
    for sig in (signal.SIGTERM, signal.SIGINT):
        base = tmpdir()  # serve's TMPDIR: its temporary data dir is made in here
        port_file = os.path.join(base, "port")
        p = start("serve", "--port", "0", "--port-file", port_file, env={"TMPDIR": base})
        wait_for(lambda: os.path.exists(port_file), 15, "serve to listen")
        url = "ws://127.0.0.1:%s" % open(port_file).read().strip()
        r = execute(url, "--config", FAST, "--auto-approve")
        assert r.rc == 0, r
        dirs = glob.glob(os.path.join(base, "wsflow-serve-*"))
        assert len(dirs) == 1, dirs
        assert glob.glob(os.path.join(dirs[0], "*.events.ndjson"))
        p.send_signal(sig)
        p.wait(timeout=15)
        assert p.returncode == 0, p.stderr.read()
        assert not os.path.exists(dirs[0]), sig


def test_deep_json_oversized_frames_and_invalid_utf8_do_not_hurt_the_server():
    with Server() as s:
        ws = RawWs(s.port)
        ws.send(b"[" * 200000)
        op, payload = ws.recv()
        err = json.loads(payload)
        assert err["data"]["error_type"] == "invalid_json" and "nested deeper" in err["data"]["message"]
        ws.send(b'{"a":' * 100000)
        assert json.loads(ws.recv()[1])["data"]["error_type"] == "invalid_json"
        ws.send(json.dumps({"type": "ping", "request_id": "p"}).encode())
        assert json.loads(ws.recv()[1])["event_type"] == "pong"  # still answering

        big = RawWs(s.port)
        # The header announces 2 MiB but only the start follows: the server closes on the header,
        # and a client still pushing the rest would race that close (EPIPE/RST).
        big.send(b'{"type":"ping","pad":"' + b"x" * 1000, declared=2 << 20)
        assert big.close_code() == 1009

        bad = RawWs(s.port)
        bad.send(b'{"type":"ping","x":"\xff\xfe"}')
        assert bad.close_code() == 1007

        assert s.proc.poll() is None
        assert execute(s.url, "--config", FAST, "--auto-approve").rc == 0


def test_max_frame_size_bounds_a_client_frame():
    """Issue 16: serve's limit is the clients' option, --max-frame-size (1 MiB by default, above)."""
    with Server("--max-frame-size", "4KiB") as s:
        ok = RawWs(s.port)
        ok.send(json.dumps({"type": "ping", "request_id": "p", "pad": "x" * 3000}).encode())
        assert json.loads(ok.recv()[1])["event_type"] == "pong"
        big = RawWs(s.port)
        big.send(b'{"type":"ping","pad":"' + b"x" * 100, declared=5000)
        assert big.close_code() == 1009
    bad = wsflow("serve", "--max-frame-size", "0")
    assert bad.rc == 2 and "--max-frame-size" in bad.err.decode(), bad
    assert "--max-frame-size SIZE" in wsflow("serve", "--help-all").out.decode()


def test_connection_flood_leaks_no_descriptor():
    with Server() as s:
        assert execute(s.url, "--config", FAST, "--auto-approve").rc == 0
        pid = s.proc.pid
        before_fd, before_rss = fd_count(pid), rss_kb(pid)
        for i in range(500):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            if i % 3:
                key = base64.b64encode(os.urandom(16)).decode()
                c.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
                if i % 3 == 2:
                    c.recv(1024)  # upgraded, then dropped
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()  # RST
        wait_for(lambda: fd_count(pid) <= before_fd, 30, "the descriptors of 500 dropped connections to go")
        print("fds %d -> %d, RSS %d -> %d KiB" % (before_fd, fd_count(pid), before_rss, rss_kb(pid)))
        assert execute(s.url, "--config", FAST, "--auto-approve").rc == 0


def test_stall_after_answers_no_ping_at_all():
    with Server("--stall-after", "5") as s:
        r = wsflow("execute", "st", "--url", s.url, "--run-id", "st", "--config", long_config(50), "--detach")
        assert r.rc == 0, r
        ws = RawWs(s.port)
        ws.send(json.dumps({"type": "subscribe", "run_id": "st"}).encode())
        seen = 0
        while seen < 5:
            op, payload = ws.recv()
            if b'"seq"' in payload:
                seen += 1
        ws.send(b"are you there", opcode=9)  # a WebSocket ping, after the stall began
        ws.sock.settimeout(1.5)  # the behaviour under test is silence: wait a bounded time for it
        got = []
        try:
            while True:
                got.append(ws.recv())
        except socket.timeout:
            pass
        assert not any(op == 10 for op, _ in got), got  # no pong


def test_verbose_logs_drops_and_shutdown_without_fatal_or_error():
    with Server("-v", "--drop-every", "300") as s:
        r = execute(s.url, "--config", long_config(scale(3000)), "--retry-initial", "20ms", "--retry-max-delay",
                    "50ms", "--retries", "100")
        assert r.rc == 0, r
        flood = [RawWs(s.port) for _ in range(20)]
        for c in flood:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.sock.close()
        assert s.stop(signal.SIGTERM) == 0
        err = s.stderr()
    assert "fault: dropping a connection" in err
    assert "shutting down" in err
    assert "[fatal]" not in err and "[error]" not in err, err[-2000:]


def test_runs_and_status():
    with Server() as s:
        assert execute(s.url, "--config", '{"scenario":"fail","delay_ms":1}', "--run-id", "a-fail").rc == 1
        assert execute(s.url, "--config", FAST, "--run-id", "b-done", "--auto-approve").rc == 0
        r = wsflow("execute", "wait here", "--url", s.url, "--config", FAST, "--run-id", "c-wait", "--until",
                   "approval", "--no-input")
        assert r.rc == 0, r
        runs = wsflow("runs", "--url", s.url)
        assert runs.rc == 0, runs
        assert [e["run_id"] for e in runs.events] == ["c-wait", "b-done", "a-fail"]
        assert list(runs.events[0].keys()) == ["run_id", "state", "task", "created", "updated", "last_seq", "outcome"]
        assert runs.events[0]["task"] == "wait here" and runs.events[0]["state"] == "waiting"
        assert runs.events[2]["state"] == "failed" and runs.events[2]["outcome"] == "failed"
        failed = wsflow("runs", "--url", s.url, "--state", "failed")
        assert [e["run_id"] for e in failed.events] == ["a-fail"]
        assert [e["run_id"] for e in wsflow("runs", "--url", s.url, "--limit", "1").events] == ["c-wait"]
        table = wsflow("runs", "--url", s.url, "--output", "table")
        lines = table.out.decode().splitlines()
        assert lines[0].split() == ["RUN", "STATE", "EVENTS", "CREATED", "UPDATED", "TASK"]
        assert lines[1].startswith("c-wait") and "waiting" in lines[1] and lines[1].endswith("wait here")

        st = wsflow("status", "c-wait", "--url", s.url)
        assert st.rc == 0, st
        obj = json.loads(st.out)
        assert st.out.count(b"\n") == 1
        assert obj["run_id"] == "c-wait" and obj["state"] == "waiting" and obj["outcome"] is None
        assert obj["last_seq"] == 16
        assert obj["approvals"][0]["approval_id"] == "approval-s3"
        assert obj["approvals"][0]["options"] == ["approve", "reject", "modify"]
        done = wsflow("status", "a-fail", "--url", s.url)
        assert done.rc == 0 and json.loads(done.out)["outcome"] == "failed"  # exists: 0 whatever the outcome
        missing = wsflow("status", "nope", "--url", s.url)
        assert missing.rc == 4 and missing.out == b""
        assert missing.err.decode().strip().splitlines() == ["wsflow: status: run nope not found"]
        for args in (["--dialect", "ryx"], ["--url", "ws://127.0.0.1:%d/api/workflow/stream" % s.port]):
            for cmd in (["runs"], ["status", "x"]):
                r = wsflow(*cmd, "--url", s.url, *args) if args[0] == "--dialect" else wsflow(*cmd, *args)
                assert r.rc == 2 and r.out == b"", r
                err = r.err.decode().strip().splitlines()
                assert len(err) == 1 and "the ryx backend cannot" in err[0], err
        assert wsflow("runs", "--url", s.url, "--state", "sleeping").rc == 2
    gone = wsflow("runs", "--url", s.url, "--retries", "1", "--retry-initial", "50ms", "-q")
    assert gone.rc == 5 and len(gone.err.decode().strip().splitlines()) == 1, gone
