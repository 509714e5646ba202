"""Issue 6: recordings that re-emit, serve, and re-run."""
import json
import os
import subprocess
import time

from wsflow_e2e import (BIN, Server, assert_seq_complete, execute, finish, parse_ndjson, scale, start, tmpdir, wait_for,
                        wsflow)


def record(server, path, *args, config='{"delay_ms":1}'):
    r = execute(server.url + "?access_token=s3cret-value", "--record", path, "--config", config, *args)
    return r


def test_record_then_replay_is_identical_and_keeps_the_exit_status():
    d = tmpdir()
    with Server() as s:
        ok = record(s, os.path.join(d, "ok.ndjson"), "--auto-approve")
        assert ok.rc == 0, ok
        failed = record(s, os.path.join(d, "fail.ndjson"), config='{"scenario":"fail","delay_ms":1}')
        assert failed.rc == 1, failed
    r = wsflow("replay", os.path.join(d, "ok.ndjson"))
    assert r.rc == 0 and r.out == ok.out, r
    r = wsflow("replay", os.path.join(d, "fail.ndjson"))
    assert r.rc == 1 and r.out == failed.out, r
    text = open(os.path.join(d, "ok.ndjson")).read()
    assert "s3cret-value" not in text and "access_token=***" in text  # secrets never enter a recording
    header = json.loads(text.splitlines()[0])
    assert header["wsflow_recording"] == 1 and header["request"]["task"] == "e2e"
    lines = [json.loads(l) for l in text.splitlines()[1:]]
    assert {l["dir"] for l in lines} == {"in", "out", "end"} and lines[-1] == {"dir": "end", "t_ms": lines[-1]["t_ms"],
                                                                                "exit_status": 0}
    # saved watch output is accepted too, and filters and --until apply
    plain = os.path.join(d, "plain.ndjson")
    open(plain, "wb").write(ok.out)
    r = wsflow("replay", plain, "--type", "step_completed")
    assert r.rc == 0 and len(r.events) == 5, r
    r = wsflow("replay", "-", "--until", "approval_requested", stdin=ok.out)
    assert r.rc == 0 and r.events[-1]["event_type"] == "approval_requested", r


def test_speed_1_takes_the_recorded_time_and_keeps_order():
    d = tmpdir()
    path = os.path.join(d, "paced.ndjson")
    with Server() as s:
        r = record(s, path, "--auto-approve", config='{"delay_ms":45}')  # 27 events, about 1.2 s
        assert r.rc == 0
    span = json.loads(open(path).read().splitlines()[-2])["t_ms"] / 1000.0
    assert span >= 1.0, span
    t0 = time.monotonic()
    rep = wsflow("replay", path, "--speed", "1")
    assert rep.rc == 0 and rep.out == r.out
    assert time.monotonic() - t0 >= span * 0.95  # a lower bound only
    t0 = time.monotonic()
    assert wsflow("replay", path, "--speed", "0").out == r.out


def test_bad_recordings():
    d = tmpdir()
    with Server() as s:
        good = record(s, os.path.join(d, "good.ndjson"), "--auto-approve")
    text = open(os.path.join(d, "good.ndjson")).read()
    cut = os.path.join(d, "cut.ndjson")
    at = text.index("workflow_completed")  # the recorder was killed while writing the terminal event
    open(cut, "w").write(text[:at])
    r = wsflow("replay", cut)
    assert r.rc == 7 and "cut off" in r.err.decode(), r  # usable, but the run's end is missing
    assert r.out == b"".join(l + b"\n" for l in good.out.splitlines()[:-1])  # nothing half-written or lost
    lines = text.splitlines()
    lines[4] = "garbage"
    bad = os.path.join(d, "bad.ndjson")
    open(bad, "w").write("\n".join(lines) + "\n")
    r = wsflow("replay", bad)
    assert r.rc == 2 and r.out == b"" and "bad.ndjson:5:" in r.err.decode(), r
    r = wsflow("replay", bad, "--skip-bad")
    assert r.rc == 0 and "skipped 1" in r.err.decode(), r
    empty = os.path.join(d, "empty.ndjson")
    open(empty, "w").close()
    r = wsflow("replay", empty)
    assert r.rc == 2 and "empty" in r.err.decode(), r
    r = wsflow("replay", os.path.join(d, "missing.ndjson"))
    assert r.rc == 2 and "cannot open" in r.err.decode(), r


def test_replay_serve_is_watched_like_the_original():
    d = tmpdir()
    path = os.path.join(d, "rec.ndjson")
    with Server() as s:
        orig = record(s, path, "--auto-approve", "--run-id", "played")
        assert orig.rc == 0
    port_file = os.path.join(d, "port")
    srv = start("replay", path, "--serve", "--port", "0", "--port-file", port_file, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(port_file), 10, "replay --serve to listen")
        url = "ws://127.0.0.1:%s" % open(port_file).read().strip()
        r = wsflow("watch", "played", "--url", url)
        assert r.rc == 0 and r.out == orig.out, r
        r = wsflow("watch", "played", "--url", url, "--since-seq", "20")
        assert r.rc == 0 and r.out.splitlines() == orig.out.splitlines()[20:], r
        r = wsflow("execute", "x", "--url", url)
        assert r.rc == 4 and "replays a recording" in r.err.decode(), r
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    # --loop: a client that stays gets the recording again
    os.unlink(port_file)
    srv = start("replay", path, "--serve", "--loop", "--port", "0", "--port-file", port_file, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(port_file), 10, "replay --serve --loop to listen")
        url = "ws://127.0.0.1:%s/ws" % open(port_file).read().strip()
        n = len(orig.events)
        r = wsflow("send", "--url", url, "--max-events", 2 * n + 1, "--timeout", "30s", "--linger", "30s",
                   stdin=b'{"type":"subscribe","run_id":"played","since_seq":0}\n')
        assert r.rc == 0, r
        seqs = [e.get("seq") for e in r.events[1:]]
        assert seqs == list(range(1, n + 1)) * 2, seqs
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def test_replay_serve_resumes_after_a_drop_with_speed():
    n = scale(800)
    d = tmpdir()
    path = os.path.join(d, "long.ndjson")
    with Server() as s:  # paced: the recording spans about 2 ms an event
        orig = execute(s.url, "--record", path, "--run-id", "lng",
                       "--config", '{"scenario":"long","events":%d,"delay_ms":2}' % n)
        assert orig.rc == 0
    port_file = os.path.join(d, "port")
    srv = start("replay", path, "--serve", "--port", "0", "--port-file", port_file, "--speed", "1",
                stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(port_file), 10, "replay --serve to listen")
        url = "ws://127.0.0.1:%s" % open(port_file).read().strip()
        # the first watcher is cut off mid-stream (its connection drops with it) ...
        p = start("watch", "lng", "--url", url)
        got = b""
        while got.count(b"\n") < n // 3:
            line = p.stdout.readline()
            assert line
            got += line
        p.kill()
        p.wait()
        last = json.loads(got.splitlines()[-1])["seq"]
        # ... and the next one subscribes from the last seq it saw: the rest, paced, nothing twice
        r = wsflow("watch", "lng", "--url", url, "--since-seq", last)
        assert r.rc == 0, r
        assert got + r.out == orig.out
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def test_rerun_records_and_locks():
    d = tmpdir()
    path = os.path.join(d, "nightly.ndjson")
    runs = os.path.join(d, "runs")
    lock = os.path.join(d, "nightly.lock")
    with Server() as s:
        orig = record(s, path, "--auto-approve")
        assert orig.rc == 0
        r = wsflow("replay", path, "--rerun", "--url", s.url, "--auto-approve", "--record-dir", runs, "-q")
        assert r.rc == 0, r
        events = r.events
        assert events[0]["run_id"] != orig.events[0]["run_id"]  # a new run
        assert [e["event_type"] for e in events] == [e["event_type"] for e in orig.events]
        recorded = os.listdir(runs)
        assert len(recorded) == 1 and recorded[0].startswith("nightly-")
        assert wsflow("replay", os.path.join(runs, recorded[0])).out == r.out
        # two reruns at once with the same lock: one runs, the other says it skipped and exits 0.
        # The first holds the lock for as long as its run waits at the approval nobody answers yet.
        rerun = ["replay", path, "--rerun", "--url", s.url, "--lock", lock, "--record-dir", runs, "--keep", "2"]
        a = start(*rerun, "-q")
        first = b""
        while b"approval_requested" not in first:
            line = a.stdout.readline()
            assert line, "the first rerun ended early"
            first += line
        a_run = json.loads(first.splitlines()[0])["run_id"]
        b = wsflow(*rerun, "--no-input", "--approve", "*=approve")
        assert b.rc == 0 and "skipping" in b.err.decode() and b.out == b"", b
        # the same with --lock-wait: it waits for the first one to finish, then runs
        c = start(*rerun, "--lock-wait", "60s", "--approve", "*=approve", "-q")
        assert wsflow("approve", a_run, "approval-s3", "--url", s.url).rc == 0
        assert finish(a).rc == 0
        rc = finish(c)
        assert rc.rc == 0 and rc.out != b"" and json.loads(rc.out.splitlines()[0])["run_id"] != a_run, rc
        assert len(os.listdir(runs)) == 2  # --keep 2
        r = wsflow("replay", path, "--rerun", "--url", s.url, "--same-run-id")
        assert r.rc == 4 and "already exists" in r.err.decode(), r


def serve_recording(path, *args):
    """`wsflow replay PATH --serve ARGS` on a free port; returns (process, ws://127.0.0.1:PORT)."""
    port_file = os.path.join(tmpdir(), "port")
    srv = start("replay", path, "--serve", "--port", "0", "--port-file", port_file, *args, stdout=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(port_file) or srv.poll() is not None, 10, "replay --serve to listen")
    assert srv.poll() is None, finish(srv)
    return srv, "ws://127.0.0.1:%s" % open(port_file).read().strip()


def stop(srv):
    srv.terminate()
    srv.wait(timeout=10)


# Each dialect's client command, as test_dialects.py runs it (URL given per dialect's endpoint).
DIALECT_RUNS = {
    "cmbagent": (["execute", "t", "--run-id", "task-1", "--auto-approve", "--config", '{"delay_ms":1}'], ""),
    "ryx": (["execute", "t", "--run-id", "ryx-1", "--config", '{"delay_ms":1}'], "/api/workflow/stream"),
    "chat": (["execute", "hello", "--run-id", "sess-1"], "/ws/chat"),
    "a2a": (["watch", "w1"], ""),
    "aladdin": (["watch", "ex1"], ""),
}


def record_dialect(dialect, path):
    args, endpoint = DIALECT_RUNS[dialect]
    with Server("--dialect", dialect) as s:
        r = wsflow(*args, "--url", s.url + endpoint, "--dialect", dialect, "--record", path)
        assert r.rc == 0 and r.events, (dialect, r)
    return r


def test_replay_serve_speaks_each_recorded_dialect():
    # The frames are sent verbatim and each dialect's client numbers and keys them itself, so the
    # same command with the same run id prints the same bytes, timestamps and seq included. Except
    # ryx: most of its frames have no timestamp, and the client stamps those when they arrive.
    d = tmpdir()
    for dialect, (args, endpoint) in DIALECT_RUNS.items():
        path = os.path.join(d, dialect + ".ndjson")
        orig = record_dialect(dialect, path)
        assert json.loads(open(path).readline())["dialect"] == dialect
        srv, url = serve_recording(path)
        try:
            r = wsflow(*args, "--url", url + endpoint, "--dialect", dialect)
            assert r.rc == 0, (dialect, r)
            if dialect == "ryx":
                unstamped = lambda evs: [{k: v for k, v in e.items() if k != "timestamp"} for e in evs]
                assert unstamped(r.events) == unstamped(orig.events), (dialect, r)
            else:
                assert r.out == orig.out, (dialect, r)
            if dialect == "chat":  # its greeting comes on connect, even where the recorded client spoke first
                r = wsflow("send", "--url", url + endpoint, "--max-events", 1, "--timeout", "10s", "--linger", "10s",
                           stdin=b"")
                assert r.rc == 0 and r.events[0]["data"]["status"] == "connected", r
        finally:
            stop(srv)


def test_replay_serve_cmbagent_waits_for_the_task_keeps_the_pace_and_loops():
    d = tmpdir()
    path = os.path.join(d, "mars.ndjson")
    with Server("--dialect", "cmbagent") as s:
        orig = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--run-id", "task-1", "--auto-approve",
                      "--config", '{"delay_ms":25}', "--record", path)
        assert orig.rc == 0, orig
    lines = [json.loads(l) for l in open(path).read().splitlines()[1:]]
    frames_in = [l["frame"] for l in lines if l["dir"] == "in"]
    first_out = next(l["t_ms"] for l in lines if l["dir"] == "out")  # the task frame: the playback waits for it
    span = (max(l["t_ms"] for l in lines if l["dir"] == "in") - first_out) / 1000.0
    assert span >= 0.5, span
    srv, url = serve_recording(path, "--speed", "1")
    try:
        r = wsflow("execute", "t", "--url", url, "--dialect", "cmbagent", "--run-id", "task-1", "--auto-approve")
        assert r.rc == 0 and r.out == orig.out, r
        assert r.elapsed >= span * 0.95, (r.elapsed, span)  # a lower bound only
        # MARS frames carry no task id of the socket's: another run id gets the same events under its own
        r = wsflow("execute", "t", "--url", url, "--dialect", "cmbagent", "--run-id", "task-2", "--auto-approve")
        assert r.rc == 0 and {e["run_id"] for e in r.events} == {"task-2"}, r
        strip = lambda evs: [{k: v for k, v in e.items() if k != "run_id"} for e in evs]
        assert strip(r.events) == strip(orig.events)
        # nothing comes before the client's first frame (MARS waits for the task) ...
        r = wsflow("send", "--url", url + "/ws/task-1", "--max-events", 1, "--timeout", "1s", "--linger", "10s",
                   stdin=b"")
        assert r.rc == 124 and r.out == b"", r
        # ... then the backend's frames, verbatim, whatever the first frame said
        r = wsflow("send", "--url", url + "/ws/task-1", "--max-events", len(frames_in), "--timeout", "30s",
                   "--linger", "30s", stdin=b'{"task":"anything"}\n')
        assert r.rc == 0 and r.events == frames_in, r
    finally:
        stop(srv)
    # --serve-as native: the same recording's events over wsflow's protocol, under its run id
    srv, url = serve_recording(path, "--serve-as", "native")
    try:
        r = wsflow("watch", "task-1", "--url", url)
        assert r.rc == 0 and r.out == orig.out, r
    finally:
        stop(srv)
    # --loop: a client that stays gets the backend's frames again, without sending the task again
    srv, url = serve_recording(path, "--loop")
    try:
        n = len(frames_in)
        r = wsflow("send", "--url", url + "/ws/task-1", "--max-events", 2 * n, "--timeout", "30s", "--linger", "30s",
                   stdin=b'{"task":"anything"}\n')
        assert r.rc == 0 and r.events == frames_in * 2, r
    finally:
        stop(srv)
    r = wsflow("replay", path, "--serve", "--serve-as", "bogus")
    assert r.rc == 2, r
    plain = os.path.join(d, "plain.ndjson")
    open(plain, "wb").write(orig.out)
    r = wsflow("replay", plain, "--serve", "--serve-as", "recorded", "--port", "0")
    assert r.rc == 2 and "--serve-as native" in r.err.decode(), r
