"""Issue 3: the stream stays whole across drops, restarts, stalls, slow readers and garbage."""
import json
import os
import signal
import socket
import threading
import time

from wsflow_e2e import (Server, assert_seq_complete, execute, finish, free_port, parse_ndjson, read_until, scale, start,
                        tmpdir, wait_for, wait_rss, wsflow)

# Small backoff so that tests spend their time on events, not on waiting.
RETRY = ["--retry-initial", "50ms", "--retry-max-delay", "200ms", "--retries", "50"]


def long_config(n, delay_ms=0):
    return '{"scenario":"long","events":%d,"delay_ms":%d}' % (n, delay_ms)


def test_drop_every_997_output_identical_to_fault_free_watch():
    n = scale(50000)
    data = tmpdir()
    with Server("--drop-every", "997", data_dir=data) as faulty:
        r = execute(faulty.url, "--config", long_config(n), *RETRY, timeout=300)
        assert r.rc == 0, r
        run_id = r.events[0]["run_id"]
        port = faulty.port
    # the same run from a server without faults
    with Server(port=port, data_dir=data) as clean:
        ref = wsflow("watch", run_id, "--url", clean.url, timeout=300)
    assert ref.rc == 0, ref
    assert r.out == ref.out  # byte for byte
    assert len(ref.events) == n + 4
    reconnects = r.err.decode().count("reconnected")
    assert reconnects >= (n + 4) // 997 - 1, r.err.decode()[-500:]


def test_kill_9_server_mid_run_and_restart():
    n = scale(3000)
    data = tmpdir()
    s = Server(data_dir=data)
    port = s.port
    # paced (1 ms an event) so that the kill lands in the middle of the run
    p = start("execute", "long", "--url", s.url, "--config", long_config(n, 1), "--run-id", "k9", *RETRY,
              "--connect-timeout", "2s")
    got = read_until(p, lines=n // 5)
    s.kill()
    s2 = Server(port=port, data_dir=data)
    rest = p.stdout.read()
    r = finish(p)
    assert r.rc == 0, r
    assert "reconnected" in r.err.decode(), r
    events = parse_ndjson(got + rest)
    assert_seq_complete(events)
    assert len(events) == n + 4 and events[-1]["event_type"] == "workflow_completed"
    ref = wsflow("watch", "k9", "--url", s2.url, timeout=300)
    assert ref.rc == 0 and ref.out == got + rest
    s2.stop()


def test_server_restart_continues_an_unfinished_run_deterministically():
    data = tmpdir()
    s = Server(data_dir=data)
    port = s.port
    # the demo waits at its approval gate: stop the server there
    p = start("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--run-id", "gate", *RETRY)
    seen = read_until(p, b"approval_requested")
    s.stop()
    s2 = Server(port=port, data_dir=data)
    # the client reconnects to the restarted server; an approval now lets the run finish
    # a second watcher answers the pending approval (one that was answered before is left alone)
    approve = wsflow("watch", "gate", "--url", s2.url, "--auto-approve", timeout=60)
    assert approve.rc == 0, approve
    rest = p.stdout.read()
    r = finish(p)
    assert r.rc == 0, r
    events = parse_ndjson(seen + rest)
    assert_seq_complete(events)
    assert [e["event_type"] for e in events][-1] == "workflow_completed"
    assert sum(1 for e in events if e["event_type"] == "approval_received") == 1
    s2.stop()


def test_sigstop_server_is_noticed_by_ping_and_stream_resumes():
    n = scale(3000)
    with Server() as s:
        p = start("execute", "long", "--url", s.url, "--config", long_config(n, 1), "--run-id", "stop",
                  "--ping-interval", "300ms", "--pong-timeout", "200ms", *RETRY)
        first = p.stdout.readline()
        os.kill(s.proc.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        err_lines = []

        def read_err():
            for line in p.stderr:
                err_lines.append((time.monotonic(), line.decode()))

        t = threading.Thread(target=read_err)
        t.start()
        wait_for(lambda: any("no pong" in l for _, l in err_lines), 10, "the client to notice the dead peer")
        noticed = next(ts for ts, l in err_lines if "no pong" in l) - t0
        assert noticed < 0.3 + 0.2 + 1.0, noticed  # ping interval + pong timeout, plus scheduling slack
        os.kill(s.proc.pid, signal.SIGCONT)
        rest = p.stdout.read()
        p.wait(timeout=120)
        t.join()
        assert p.returncode == 0, "".join(l for _, l in err_lines)
        events = parse_ndjson(first + rest)
        assert_seq_complete(events)
        assert len(events) == n + 4
        ref = wsflow("watch", "stop", "--url", s.url)
        assert ref.out == first + rest


def test_stalled_reader_keeps_memory_bounded_and_output_exact():
    # Not scaled: the stream must be much larger than the bound for the bound to mean anything.
    n = 200000
    # Under AddressSanitizer freed memory sits in a quarantine; without one RSS shows live memory.
    env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"}
    with Server("-v") as s:
        # baseline: the same binary following a tiny run
        small = start("execute", "t", "--url", s.url, "--config", long_config(10), env=env)
        small.stdout.read()
        small.stderr.read()
        rc, base_rss = wait_rss(small)
        assert rc == 0
        p = start("execute", "long", "--url", s.url, "--config", long_config(n), "--run-id", "slow", env=env)
        time.sleep(3)  # the reader stalls: nothing is read while the run streams
        chunks, size = [], 0
        while True:
            chunk = p.stdout.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size < 8 << 20:
                time.sleep(0.001)  # a slow reader for the first megabytes too
        data = b"".join(chunks)
        p.stderr.read()
        rc, rss = wait_rss(p)
        assert rc == 0
        events = parse_ndjson(data)
        assert len(events) == n + 4
        assert_seq_complete(events)
        print("stalled reader: %d bytes of output, max RSS %d KiB (baseline %d KiB)" % (len(data), rss, base_rss))
        # without backpressure the whole stream would sit in memory: the growth stays under a fixed
        # bound (4 MiB of pending output, socket and parser buffers) far below the stream's size
        bound_kb = 24 * 1024
        assert len(data) // 1024 > 1.5 * bound_kb, len(data)
        assert rss - base_rss < bound_kb, (rss, base_rss, len(data))
        assert "backpressure" in s.stderr()


def test_retries_exhausted_against_closed_port():
    port = free_port()
    t0 = time.monotonic()
    r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "--retries", "4", "--retry-initial", "100ms",
               "--retry-max-delay", "300ms")
    elapsed = time.monotonic() - t0
    assert r.rc == 5, r
    err = r.err.decode().splitlines()
    assert sum(1 for l in err if "attempt" in l) == 4, err
    assert "giving up after 4 retries" in err[-1], err
    # ceilings 100 + 200 + 300 + 300 ms: the delays stay under their sum (upper bound; jitter does the rest)
    assert elapsed < 0.9 + 2.0, elapsed


def test_retry_jitter_none_waits_the_ceilings():
    port = free_port()
    r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "--retries", "3", "--retry-initial", "100ms",
               "--retry-max-delay", "150ms", "--retry-jitter", "none")
    assert r.rc == 5, r
    delays = [l.split("reconnecting in ")[1].split(" (")[0] for l in r.err.decode().splitlines() if "reconnecting in" in l]
    assert delays == ["100 ms", "150 ms", "150 ms"], delays
    assert r.elapsed >= 0.4  # a lower bound: the ceilings were waited


def test_garbage_frames_are_reported_not_printed():
    n = scale(3000)
    with Server("--garbage-every", "500") as s:
        r = execute(s.url, "--config", long_config(n))
        assert r.rc == 0, r
        events = r.events  # every stdout line parses
        assert len(events) == n + 4
        assert_seq_complete(events)
        assert r.err.decode().count("not JSON") == (n + 4) // 500
        strict = execute(s.url, "--config", long_config(n), "--strict")
        assert strict.rc == 4, strict
        assert "--strict" in strict.err.decode()
        assert_seq_complete(strict.events)
        assert len(strict.events) == 500  # nothing after the garbage, nothing lost before it


def test_close_codes_reconnect_and_clean_close_after_terminal():
    n = scale(4000)
    for code in ("1011", "4000", "1000"):
        with Server("--drop-every", "700", "--close-code", code) as s:
            r = execute(s.url, "--config", long_config(n), *RETRY)
            assert r.rc == 0, (code, r)
            assert len(r.events) == n + 4
            assert_seq_complete(r.events)
            assert "close %s" % code in r.err.decode(), (code, r.err.decode()[-300:])
    with Server("--close-code", "1000") as s:  # the server closes after the terminal event
        r = execute(s.url, "--config", long_config(10))
        assert r.rc == 0 and "reconnecting" not in r.err.decode(), r


def test_approval_lost_in_a_drop_is_delivered_once_after_reconnect():
    # the demo's approval_requested is its 16th event: the connection drops right after it, so the
    # auto-approval goes into a dying socket and must be re-sent (and applied once) after reconnecting
    with Server("--drop-every", "16") as s:
        r = execute(s.url, "--auto-approve", "--config", '{"delay_ms":20}', *RETRY)
        assert r.rc == 0, r
        types = [e["event_type"] for e in r.events]
        assert types.count("approval_received") == 1 and types[-1] == "workflow_completed", types
        assert_seq_complete(r.events)


def test_connection_events_and_summary_file():
    n = scale(2000)
    summary = os.path.join(tmpdir(), "summary.json")
    with Server("--drop-every", str(max(20, n // 4))) as s:
        r = execute(s.url, "--config", long_config(n), "--connection-events", "--summary", summary, *RETRY)
        assert r.rc == 0, r
        client = [e for e in r.events if e.get("origin") == "client"]
        kinds = [e["event_type"] for e in client]
        assert kinds[0] == "connected" and "disconnected" in kinds and "reconnected" in kinds, kinds
        assert all("seq" not in e for e in client)
        assert_seq_complete([e for e in r.events if e.get("origin") != "client"])
        disc = next(e for e in client if e["event_type"] == "disconnected")
        assert {"reason", "attempt", "delay_ms", "last_seq"} <= set(disc["data"])
        s_ = json.load(open(summary))
        # events counts the run's own events, not the client's connection lines
        assert s_["exit_status"] == 0 and s_["events"] == len(r.events) - len(client) == n + 4, s_
        assert s_["reconnects"] >= 1, s_
        assert s_["last_seq"] == n + 4


def test_watch_start_points():
    with Server() as s:
        full = execute(s.url, "--config", long_config(50), "--run-id", "starts")
        assert full.rc == 0
        r = wsflow("watch", "starts", "--url", s.url, "--since-seq", "40")
        assert r.rc == 0 and r.events == full.events[40:], r
        r = wsflow("watch", "starts", "--url", s.url, "--tail", "3")
        assert r.rc == 0 and r.events == full.events[-3:], r
        bad = wsflow("watch", "starts", "--url", s.url, "--tail", "3", "--no-history")
        assert bad.rc == 2, bad


def test_sigint_closes_cleanly_and_exits_130():
    with Server() as s:
        # the demo waits for an approval nobody gives: interrupt the watcher there
        p = start("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}')
        got = read_until(p, b"approval_requested")
        p.send_signal(signal.SIGINT)
        r = finish(p, timeout=10)
        assert r.rc == 130, r
        assert "interrupted" in r.err.decode()
        assert_seq_complete(parse_ndjson(got + r.out))
        p = start("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}')
        read_until(p, lines=1)
        p.send_signal(signal.SIGTERM)
        assert finish(p, timeout=10).rc == 143


def test_sighup_is_like_sigterm_with_129_and_cancels_when_asked():
    """Issue 17: a closed terminal (SIGHUP) no longer kills wsflow silently with 129 from the
    default action: it says so, and --cancel-on-interrupt cancels the run first."""
    with Server() as s:
        p = start("execute", "t", "--url", s.url, "--run-id", "hup1", "--config", '{"delay_ms":1}')
        read_until(p, b"approval_requested")
        p.send_signal(signal.SIGHUP)
        r = finish(p, timeout=10)
        assert r.rc == 129, r
        assert "wsflow: hung up (last seq printed:" in r.err.decode(), r
        p = start("execute", "t", "--url", s.url, "--run-id", "hup2", "--config", '{"delay_ms":1}',
                  "--cancel-on-interrupt")
        read_until(p, b"approval_requested")
        p.send_signal(signal.SIGHUP)
        r = finish(p, timeout=15)
        assert r.rc == 129, r
        assert "cancelling run hup2" in r.err.decode(), r
        w = wsflow("watch", "hup2", "--url", s.url, "--direct")
        assert w.rc == 3, w  # the run was cancelled


def test_connect_timeout_bounds_a_silent_server():
    # accepts TCP but never answers the upgrade
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    try:
        r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "--connect-timeout", "300ms",
                   "--retries", "1", "--retry-initial", "10ms", timeout=20)
        assert r.rc == 5, r
        assert "no connection within 300 ms" in r.err.decode(), r
        assert r.elapsed < 5
    finally:
        srv.close()


def test_idle_timeout_reconnects_a_silent_stream():
    with Server() as s:
        # a paused-looking run: the demo waits at its gate and sends nothing; idle timeout reconnects
        p = start("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--run-id", "idle",
                  "--idle-timeout", "300ms", *RETRY)
        got = read_until(p, b"approval_requested")
        time.sleep(1.0)  # several idle timeouts pass
        approve = wsflow("watch", "idle", "--url", s.url, "--auto-approve")
        assert approve.rc == 0, approve
        r = finish(p)
        assert r.rc == 0, r
        assert "no data for 300 ms" in r.err.decode(), r
        events = parse_ndjson(got + r.out)
        assert_seq_complete(events)
        assert events[-1]["event_type"] == "workflow_completed"


class HttpRefuser:
    """A TCP server that answers every upgrade with a fixed HTTP status, counting the attempts."""

    def __init__(self, status, headers=b""):
        self.status, self.headers, self.attempts = status, headers, 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "ws://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.attempts += 1
            c.settimeout(5)
            try:
                req = b""
                while b"\r\n\r\n" not in req:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    req += chunk
                c.sendall(b"HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n" %
                          (self.status.encode(), self.headers))
            except OSError:
                pass
            c.close()

    def close(self):
        self.sock.close()


def test_http_status_of_a_refused_upgrade_decides_retry_and_exit():
    # 404: wsflow's own path, then the paths of the other backends that can watch (a2a, chat), once each
    for status, rc, attempts in (("401 Unauthorized", 6, 1), ("403 Forbidden", 6, 1), ("404 Not Found", 5, 3),
                                 ("503 Service Unavailable", 5, 3)):
        srv = HttpRefuser(status)
        try:
            r = wsflow("watch", "r1", "--url", srv.url, "--retries", "2", "--retry-initial", "10ms", timeout=30)
            assert r.rc == rc, (status, r)
            assert srv.attempts == attempts, (status, srv.attempts, r)
            assert status.split()[0] in r.err.decode().splitlines()[-1], (status, r)
        finally:
            srv.close()


def test_before_a_first_connection_failures_that_cannot_heal_end_at_once():
    # a name that does not resolve: exit 5 at once, naming the host
    r = wsflow("watch", "r1", "--url", "ws://no-such-host.invalid:8000", timeout=30)
    assert r.rc == 5 and r.elapsed < 3, r
    assert r.err.decode().splitlines()[-1].startswith(
        "wsflow: cannot connect to ws://no-such-host.invalid:8000/ws/r1: cannot resolve host no-such-host.invalid"), r
    # a plain web server's 200, a redirect: exit 5 at once, naming the status (and Location)
    for status, headers, want in (("200 OK", b"", "answered HTTP 200 OK, not a WebSocket upgrade"),
                                  ("301 Moved Permanently", b"Location: https://example.invalid/app\r\n",
                                   "HTTP 301 Moved Permanently, not a WebSocket upgrade (Location: https://example.invalid/app)")):
        srv = HttpRefuser(status, headers)
        try:
            r = wsflow("watch", "r1", "--url", srv.url, timeout=30)
            assert r.rc == 5 and srv.attempts == 1 and want in r.err.decode(), (status, r)
        finally:
            srv.close()
    # 429: busy, may heal: retried like a 5xx
    srv = HttpRefuser("429 Too Many Requests")
    try:
        r = wsflow("watch", "r1", "--url", srv.url, "--retries", "2", "--retry-initial", "10ms", timeout=30)
        assert r.rc == 5 and srv.attempts == 3, (srv.attempts, r)
    finally:
        srv.close()


def test_a_refused_connection_is_retried_for_wait_for_backend_then_names_the_url():
    port = free_port()
    url = "ws://127.0.0.1:%d" % port
    r = wsflow("watch", "r1", "--url", url, "--wait-for-backend", "700ms", "--retry-initial", "50ms", timeout=30)
    assert r.rc == 5 and 0.6 < r.elapsed < 5, r
    last = r.err.decode().splitlines()[-1]
    assert last.startswith("wsflow: cannot connect to %s/ws/r1: Connection refused (retried for" % url), last
    assert "--wait-for-backend" in last, last
    # the same from the environment; a backend that comes up within the wait is reached
    env = {"WSFLOW_WAIT_FOR_BACKEND": "20s"}
    p = start("execute", "t", "--url", url, "--config", '{"scenario":"long","events":3}', "--retry-initial", "100ms",
              env=env)
    time.sleep(1.0)
    with Server(port=port):
        res = finish(p, timeout=60)
    assert res.rc == 0 and len(parse_ndjson(res.out)) == 7, res


def test_wss_to_a_plain_ws_server_says_it_does_not_speak_tls():
    with Server() as s:
        r = wsflow("watch", "r1", "--url", s.url.replace("ws://", "wss://"), timeout=30)
        assert r.rc == 5 and r.elapsed < 15, r
        err = r.err.decode()
        assert "it does not speak TLS; is it a ws:// server?" in err and "client certificate" not in err, r
