"""Issue 9: one connection per run, shared across processes through the local control socket."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

from wsflow_e2e import (BIN, Server, Skip, assert_seq_complete, finish, parse_ndjson, scale, start, tmpdir, wait_for,
                        wsflow)


def runtime_dir():
    d = tmpdir()
    os.chmod(d, 0o700)
    return {"XDG_RUNTIME_DIR": d}


def read_until(p, needle):
    got = b""
    while needle not in got:
        line = p.stdout.readline()
        assert line, "stream ended before %r" % needle
        got += line
    return got


def sessions(env):
    r = wsflow("sessions", env=env)
    assert r.rc == 0, r
    return r.events


def test_native_actions_go_through_the_holder_then_direct():
    env = runtime_dir()
    with Server() as s:
        holder = start("execute", "t", "--url", s.url, "--run-id", "h1", "--config", '{"delay_ms":1}', env=env)
        read_until(holder, b"approval_requested")
        listed = sessions(env)
        assert [(x["run_id"], x["dialect"], x["state"], x["pid"]) for x in listed] == [("h1", "native", "open", holder.pid)]
        a = wsflow("approve", "h1", "approval-s3", "--url", s.url, "--feedback", "via holder", "-v", env=env)
        assert a.rc == 0 and "through the local session of pid %d" % holder.pid in a.err.decode(), a
        assert a.events[0]["event_type"] == "approval_received" and a.events[0]["data"]["feedback"] == "via holder"
        r = finish(holder)
        assert r.rc == 0, r
        assert sessions(env) == []  # the holder removed its socket
        # a run nobody holds: the control commands connect directly
        holder = start("execute", "t", "--url", s.url, "--run-id", "h2",
                       "--config", '{"scenario":"long","events":100000,"delay_ms":5}', env=env)
        read_until(holder, b'"seq":2,')
        c = wsflow("cancel", "h2", "--url", s.url, env=env)
        assert c.rc == 0 and "local session" in c.err.decode(), c
        assert finish(holder).rc == 3
        d = wsflow("execute", "t", "--url", s.url, "--run-id", "h3", "--detach", env=env)
        assert d.rc == 0
        c = wsflow("cancel", "h3", "--url", s.url, env=env)
        assert c.rc == 0 and "local session" not in c.err.decode(), c


def test_cmbagent_run_is_steered_through_its_holder():
    env = runtime_dir()
    with Server("--dialect", "cmbagent") as s:
        holder = start("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--run-id", "m1",
                       "--config", '{"delay_ms":1}', env=env)
        first = read_until(holder, b"approval_requested")
        w = wsflow("watch", "m1", "--url", s.url, "--dialect", "cmbagent", "--until", "approval_requested", env=env)
        assert w.rc == 0 and w.out == first, w  # the holder's history, through its socket
        bad = wsflow("approve", "m1", "approval-s3", "--url", s.url, "--dialect", "cmbagent", "--resolution", "x", env=env)
        assert bad.rc == 2 and "allowed: approve, reject, modify" in bad.err.decode(), bad
        direct = wsflow("approve", "m1", "approval-s3", "--url", s.url, "--dialect", "cmbagent", "--direct", env=env)
        assert direct.rc == 2 and "one socket per run" in direct.err.decode(), direct
        a = wsflow("approve", "m1", "approval-s3", "--url", s.url, "--dialect", "cmbagent", env=env)
        assert a.rc == 0 and a.events[0]["event_type"] == "approval_received", a
        r = finish(holder)
        assert r.rc == 0, r
        events = parse_ndjson(first + r.out)
        assert_seq_complete(events)
        assert [e["event_type"] for e in events].count("approval_received") == 1
    with Server("--dialect", "cmbagent") as s:
        holder = start("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--run-id", "m2",
                       "--config", '{"scenario":"long","events":100000,"delay_ms":5}', env=env)
        read_until(holder, b'"seq":2,')
        c = wsflow("cancel", "m2", "--url", s.url, "--dialect", "cmbagent", env=env)
        assert c.rc == 0, c
        assert finish(holder).rc == 3


def test_stale_socket_and_garbage():
    env = runtime_dir()
    with Server() as s:
        holder = start("execute", "t", "--url", s.url, "--run-id", "g1", "--config", '{"delay_ms":1}', env=env)
        read_until(holder, b"approval_requested")
        sock_path = next(os.path.join(env["XDG_RUNTIME_DIR"], "wsflow", n)
                         for n in os.listdir(os.path.join(env["XDG_RUNTIME_DIR"], "wsflow")))
        assert oct(os.stat(sock_path).st_mode & 0o777) == "0o600"
        # garbage and an oversized message: refused, the run goes on
        for payload in (b"not json\n", b"[1,2]\n", b'{"op":"frobnicate"}\n', b"x" * 70000):
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(10)
            c.connect(sock_path)
            c.sendall(payload)
            reply = c.recv(4096)
            c.close()
            assert b'"ok":false' in reply, (payload[:20], reply)
        a = wsflow("approve", "g1", "approval-s3", "--url", s.url, env=env)
        assert a.rc == 0, a
        assert finish(holder).rc == 0
        # a holder killed with -9 leaves its socket: it is stale, and cleaned up
        holder = start("execute", "t", "--url", s.url, "--run-id", "g2", "--config", '{"delay_ms":1}', env=env)
        read_until(holder, b"approval_requested")
        holder.kill()
        holder.wait()
        # its process socket (p<pid>.sock) and the run's name, a link to it
        left = os.listdir(os.path.join(env["XDG_RUNTIME_DIR"], "wsflow"))
        assert len(left) == 2 and len([n for n in left if n.startswith("p")]) == 1, left
        a = wsflow("approve", "g2", "approval-s3", "--url", s.url, env=env)
        assert a.rc == 0 and "local session" not in a.err.decode(), a  # straight to the backend
        assert sessions(env) == []
        assert os.listdir(os.path.join(env["XDG_RUNTIME_DIR"], "wsflow")) == []


def test_another_user_cannot_use_the_socket():
    if os.getuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv to act as a second user")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # make sure that user can run the binary at all, or the test would pass for the wrong reason
    probe = subprocess.run(as_nobody + [BIN, "--version"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        raise Skip("uid 65534 cannot execute %s: %s" % (BIN, probe.stderr.decode()[:200]))
    env = runtime_dir()
    with Server() as s:
        holder = start("execute", "t", "--url", s.url, "--run-id", "u1", "--config", '{"delay_ms":1}', env=env)
        read_until(holder, b"approval_requested")
        wsdir = os.path.join(env["XDG_RUNTIME_DIR"], "wsflow")
        sock_path = os.path.join(wsdir, os.listdir(wsdir)[0])
        code = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n print('refused', e.errno)"
        r = subprocess.run(as_nobody + ["/usr/bin/python3", "-c", code, sock_path], capture_output=True, timeout=30)
        assert r.stdout.decode().startswith("refused"), (r.stdout, r.stderr)
        # as that user, wsflow does not find (or use) our session
        r = subprocess.run(as_nobody + [BIN, "sessions"], capture_output=True, timeout=30,
                           env=dict(os.environ, **env))
        assert b"u1" not in r.stdout, r
        a = wsflow("approve", "u1", "approval-s3", "--url", s.url, env=env)
        assert a.rc == 0
        assert finish(holder).rc == 0


def _socket_of(env):
    wsdir = os.path.join(env["XDG_RUNTIME_DIR"], "wsflow")
    return os.path.join(wsdir, wait_for(lambda: os.path.isdir(wsdir) and os.listdir(wsdir) and os.listdir(wsdir)[0],
                                        what="the holder's control socket"))


def _long_gated_scenario(n):
    """An approval gate, then n events of ~250 bytes with no delay, then the end."""
    path = os.path.join(tmpdir(), "gated.json")
    with open(path, "w") as f:
        json.dump({"name": "gated", "delay_ms": 0, "items": [
            {"approval": {"approval_id": "go", "message": "go?", "options": ["approve", "reject"]}},
            {"event": "step_progress", "repeat": n, "data": {"message": "part {i} of {n} " + "x" * 150}},
            {"event": "workflow_completed", "data": {"message": "done"}}]}, f)
    return path


def test_a_local_watcher_that_never_reads_does_not_stall_the_run():
    """Issue 13: a process that asks the holder to watch and never reads: the run, its stdout and its
    signals go on; the watcher is dropped (docs/sessions.md), not waited for."""
    env = runtime_dir()
    n = scale(200000)  # ~50 MB: far more than the watcher's queue and its socket buffer hold
    scenario = _long_gated_scenario(n)
    with Server() as s:
        holder = start("execute", "t", "--url", s.url, "--run-id", "st1", "--config",
                       json.dumps({"scenario_file": scenario}), env=env)
        head = read_until(holder, b"approval_requested")
        stalled = socket.socket(socket.AF_UNIX)
        stalled.connect(_socket_of(env))
        stalled.sendall(b'{"op":"watch"}\n')  # and never read
        a = wsflow("approve", "st1", "go", "--url", s.url, env=env)
        assert a.rc == 0, a
        r = finish(holder, timeout=240)
        # the run ended (exit 0, every event printed) while the stalled watcher was still connected
        assert r.rc == 0, r
        events = parse_ndjson(head + r.out)
        assert events[-1]["event_type"] == "workflow_completed"
        assert sum(1 for e in events if e["event_type"] == "step_progress") == n
        assert_seq_complete(events)
        stalled.close()

        # Ctrl-C with a stalled watcher attached: exit 130 at once, not when the watcher reads
        holder = start("execute", "t", "--url", s.url, "--run-id", "st2", "--config",
                       json.dumps({"scenario_file": scenario}), env=env)
        read_until(holder, b"approval_requested")
        stalled = socket.socket(socket.AF_UNIX)
        stalled.connect(_socket_of(env))
        stalled.sendall(b'{"op":"watch"}\n')
        assert wsflow("approve", "st2", "go", "--url", s.url, env=env).rc == 0
        read_until(holder, b'"seq":2000,')
        holder.send_signal(signal.SIGINT)
        r = finish(holder, timeout=30)
        assert r.rc == 130, r
        stalled.close()


class Drain:
    """Reads a process's stdout on a thread of its own, as fast as it comes (10 MB: readline and
    bytes += would be quadratic and slow the writer down)."""

    def __init__(self, p):
        self.buf, self.p = bytearray(), p
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            chunk = self.p.stdout.read1(1 << 16)
            if not chunk:
                return
            self.buf += chunk

    def wait(self, needle, what):
        wait_for(lambda: needle in self.buf, timeout=120, what=what)


def test_a_watch_through_the_holder_that_falls_behind_goes_on_from_where_it_was():
    """A `watch` attached to the holder (cmbagent: one socket per run) whose stdout is not read:
    it stops reading the holder instead of keeping the events in memory; the holder drops it past
    its queue (4 MiB), and it connects again and asks from the line it had: nothing lost."""
    env = runtime_dir()
    n = 40000  # ~10 MB of events: past the holder's queue for one watcher and every buffer between
    path = os.path.join(tmpdir(), "two-gates.json")
    with open(path, "w") as f:
        json.dump({"name": "two-gates", "delay_ms": 0, "items": [
            {"approval": {"approval_id": "go", "message": "go?", "options": ["approve", "reject"]}},
            {"event": "step_progress", "repeat": n, "data": {"message": "part {i} of {n} " + "x" * 150}},
            # the holder stays until this is answered, so the watcher has someone to come back to
            {"approval": {"approval_id": "end", "message": "end?", "options": ["approve", "reject"]}},
            {"event": "workflow_completed", "data": {"message": "done"}}]}, f)
    with Server("--dialect", "cmbagent") as s:
        holder = start("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--answer-delay", "0",
                       "--config", json.dumps({"scenario_file": path}), env=env)
        head = read_until(holder, b"approval_requested")
        run = parse_ndjson(head)[0]["run_id"]
        held = Drain(holder)
        watcher = start("watch", run, "--url", s.url, "--dialect", "cmbagent", "-v", env=env)  # stdout not read yet
        said = b""
        while b"through the local session" not in said:  # attached to the holder
            line = watcher.stderr.readline()
            assert line, said
            said += line
        assert wsflow("approve", run, "go", "--url", s.url, "--dialect", "cmbagent", env=env).rc == 0
        # the holder has printed every event; the watcher, its stdout stalled, has fallen behind
        held.wait(b'"approval_id":"end"', "the holder at the second gate")
        watched = Drain(watcher)  # now read: it catches up and goes on
        watched.wait(b'"approval_id":"end"', "the watcher at the second gate")
        assert wsflow("approve", run, "end", "--url", s.url, "--dialect", "cmbagent", env=env).rc == 0
        for p, d in ((holder, held), (watcher, watched)):
            assert p.wait(timeout=120) == 0, p
            d.thread.join(timeout=60)
            events = parse_ndjson(bytes(head if p is holder else b"") + bytes(d.buf))
            assert sum(1 for e in events if e["event_type"] == "step_progress") == n, p
            assert events[-1]["event_type"] == "workflow_completed", events[-2:]
            assert_seq_complete(events)
        err = watcher.stderr.read()
        assert b"the local session dropped this watch of run " + run.encode() in err, err[-2000:]
