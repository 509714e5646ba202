"""Issue 2: serve + execute/watch, the stdout contract, exit statuses."""
import os
import signal
import socket
import subprocess
import time

from wsflow_e2e import (DEMO_TYPES, SHARED, Server, Skip, assert_seq_complete, execute, free_port, node_ws_available,
                        parse_ndjson, read_until, scale, start, finish, tmpdir, wait_for, wsflow)

FAST = '{"delay_ms":1}'


def test_execute_demo_auto_approve():
    with Server() as s:
        r = execute(s.url, "--auto-approve", "--config", FAST)
        assert r.rc == 0, r
        events = r.events
        assert [e["event_type"] for e in events] == DEMO_TYPES
        assert_seq_complete(events)
        run_ids = {e["run_id"] for e in events}
        assert len(run_ids) == 1 and next(iter(run_ids)).startswith("r-")
        assert all(e["timestamp"].endswith("Z") and "data" in e for e in events)
        received = [e for e in events if e["event_type"] == "approval_received"][0]
        assert received["data"]["resolution"] == "approve" and received["data"]["approved"] is True
        # the run id is announced on stderr so that another terminal can watch it
        assert ("run %s" % events[0]["run_id"]) in r.err.decode()


def test_watch_of_finished_run_prints_identical_stream():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        assert first.rc == 0, first
        run_id = first.events[0]["run_id"]
        again = wsflow("watch", run_id, "--url", s.url)
        assert again.rc == 0, again
        assert again.out == first.out


def test_execute_with_chosen_run_id_and_model():
    with Server() as s:
        r = execute(s.url, "--run-id", "nightly-42", "--model", "gpt-x", "--auto-approve", "--config", FAST)
        assert r.rc == 0, r
        assert {e["run_id"] for e in r.events} == {"nightly-42"}
        assert r.events[0]["data"]["model"] == "gpt-x"
        # the same id again is refused: a run is started once
        dup = execute(s.url, "--run-id", "nightly-42", "--config", FAST)
        assert dup.rc == 4, dup
        assert "already exists" in dup.err.decode()


def test_fail_scenario_exits_1():
    with Server() as s:
        r = execute(s.url, "--config", '{"scenario":"fail","delay_ms":1}')
        assert r.rc == 1, r
        assert r.events[-1]["event_type"] == "workflow_failed"
        assert_seq_complete(r.events)


def test_reject_rule_fails_run():
    with Server() as s:
        # the demo's gate fails the run on reject: answered through the native protocol by a raw client
        import asyncio
        import json
        import websockets

        async def go():
            async with websockets.connect(s.url + "/ws/rej-1") as ws:
                await ws.send(json.dumps({"type": "execute", "task": "t", "config": {"delay_ms": 1}, "request_id": "x1"}))
                seen = []
                while True:
                    ev = json.loads(await ws.recv())
                    seen.append(ev["event_type"])
                    if ev["event_type"] == "approval_requested":
                        await ws.send(json.dumps({"type": "resolve_approval", "approval_id": ev["data"]["approval_id"],
                                                  "resolution": "reject", "feedback": "no", "request_id": "a1"}))
                    if ev["event_type"] in ("workflow_failed", "workflow_completed"):
                        return seen

        seen = asyncio.run(asyncio.wait_for(go(), 30))
        assert seen[-1] == "workflow_failed" and "approval_received" in seen
        r = wsflow("watch", "rej-1", "--url", s.url)
        assert r.rc == 1, r


def test_watch_unknown_run_exits_4_with_server_message():
    with Server() as s:
        r = wsflow("watch", "no-such-run", "--url", s.url)
        assert r.rc == 4, r
        assert r.out == b""
        err = r.err.decode().strip().splitlines()
        assert len(err) == 1 and "no-such-run not found" in err[0], err


def test_raw_prints_frames_unchanged():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        run_id = first.events[0]["run_id"]
        r = wsflow("watch", run_id, "--url", s.url, "--raw")
        assert r.rc == 0, r
        frames = parse_ndjson(r.out)
        # the acknowledgement of our subscription is a frame too, and the events are byte-identical
        assert frames[0]["event_type"] == "ack"
        event_lines = [l for l in r.lines if '"seq":' in l]
        assert "\n".join(event_lines) + "\n" == first.out.decode()


def test_type_filters():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        run_id = first.events[0]["run_id"]
        r = wsflow("watch", run_id, "--url", s.url, "--type", "step_completed, workflow_completed", "--type", "dag_created")
        assert r.rc == 0, r
        want = [e for e in first.events if e["event_type"] in ("step_completed", "workflow_completed", "dag_created")]
        assert r.events == want
        r = wsflow("watch", run_id, "--url", s.url, "--exclude-type", "step_progress,agent_message")
        assert r.rc == 0, r
        assert r.events == [e for e in first.events if e["event_type"] not in ("step_progress", "agent_message")]
        # the run's end is still seen when its terminal event is filtered out
        r = wsflow("watch", run_id, "--url", s.url, "--type", "step_started")
        assert r.rc == 0 and len(r.events) == 5, r


def test_closed_stdout_ends_quietly_with_0():
    with Server() as s:
        p = start("execute", "long", "--url", s.url, "--config", '{"scenario":"long","events":%d}' % scale(200000))
        line = p.stdout.readline()
        assert b'"seq":1' in line
        p.stdout.close()  # like `| head -1`
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, (p.returncode, err)
        assert b"error" not in err.lower(), err


def test_connection_refused_exits_5_with_one_clear_line():
    port = free_port()
    r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "--retries", "1", "--retry-initial", "50ms", "-q")
    assert r.rc == 5, r
    err = r.err.decode().strip().splitlines()
    assert len(err) == 1 and "refused" in err[0].lower(), err


def test_long_run_100k_events_arrive_complete():
    n = scale(100000)
    with Server() as s:
        r = execute(s.url, "--config", '{"scenario":"long","events":%d}' % n, timeout=240)
        assert r.rc == 0, r
        events = r.events
        assert len(events) == n + 4
        assert_seq_complete(events)
        assert sum(1 for e in events if e["event_type"] == "step_progress") == n
        assert events[-1]["event_type"] == "workflow_completed"


def test_watch_against_peer_node_ws_server():
    """The same watch against ../shared/bench/event-server.js: a server no one here wrote."""
    if not node_ws_available():
        raise Skip("node and npm ws (../shared/bench/setup.sh) are not installed")
    script = os.path.join(SHARED, "bench", "event-server.js")
    if not os.path.exists(script):
        raise Skip("%s is not there (../shared is beside the repository in CI)" % script)
    count = scale(20000)
    p = subprocess.Popen(["node", script, "--port", "0", "--count", str(count), "--size", "200"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, NODE_PATH=os.path.join(os.environ.get("PEERBENCH_PREFIX", "/tmp/peerbench"), "node_modules")))
    try:
        header = p.stderr.readline().decode()
        assert header.startswith("listening"), header
        port = int(header.split()[1])
        total_bytes = int(header.split("bytes=")[1])
        r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, timeout=120)
        assert r.rc == 0, r
        events = r.events
        assert len(events) == count + 1 and events[-1]["event_type"] == "workflow_completed"
        assert_seq_complete(events)
        assert len(r.out) == total_bytes  # every frame, unchanged, one per line
    finally:
        p.kill()
        p.wait()


def test_usage_errors_exit_2_with_one_line():
    for args in (["watch"], ["watch", "r1", "--connect-timeout", "soon"], ["watch", "r1", "--bogus"],
                 ["execute", "t", "--config", "[1,2]"], ["execute", "t", "--config", "{bad"],
                 ["watch", "r1", "--url", "http://x"], ["watch", "r1", "--ping-interval", "1s", "--pong-timeout", "2s"],
                 ["frobnicate"], []):
        r = wsflow(*args)
        assert r.rc == 2, (args, r)
        assert r.out == b"", (args, r)
        assert len(r.err.decode().strip().splitlines()) == 1, (args, r)


def test_help_and_version():
    r = wsflow("--version")
    assert r.rc == 0 and r.out.decode().startswith("wsflow "), r
    for sub in ("watch", "execute", "serve"):
        r = wsflow(sub, "--help")
        assert r.rc == 0 and b"Example" in r.out, r


def test_env_url_is_used():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        run_id = first.events[0]["run_id"]
        r = wsflow("watch", run_id, env={"WSFLOW_URL": s.url})
        assert r.rc == 0 and r.out == first.out, r


def test_url_with_path_is_used_as_given():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        run_id = first.events[0]["run_id"]
        r = wsflow("watch", run_id, "--url", s.url + "/ws")  # root endpoint + subscribe frame
        assert r.rc == 0 and r.out == first.out, r
        r = wsflow("watch", run_id, "--url", s.url + "/nowhere", "--retries", "1", "--retry-initial", "10ms")
        assert r.rc == 5 and "404" in r.err.decode(), r


def test_serve_answers_bad_input_with_error_frames():
    import asyncio
    import json
    import websockets

    with Server() as s:
        async def go():
            async with websockets.connect(s.url + "/ws") as ws:
                out = []
                for frame in ["not json", "[1]", json.dumps({"type": "frobnicate", "request_id": "q1"}),
                              json.dumps({"type": "subscribe", "run_id": "ghost", "request_id": "q2"}),
                              json.dumps({"nothing": 1}), json.dumps({"type": "ping", "request_id": "q3"})]:
                    await ws.send(frame)
                    out.append(json.loads(await ws.recv()))
                await ws.send(b"\x00\x01")
                out.append(json.loads(await ws.recv()))
                return out

        replies = asyncio.run(asyncio.wait_for(go(), 20))
        kinds = [(r["event_type"], r.get("data", {}).get("error_type"), r.get("request_id")) for r in replies]
        assert kinds == [("error", "invalid_json", None), ("error", "invalid_json", None),
                         ("error", "unknown_type", "q1"), ("error", "unknown_run", "q2"),
                         ("error", "invalid_request", None), ("pong", None, "q3"),
                         ("error", "invalid_frame", None)], kinds
        assert s.proc.poll() is None  # still serving
        assert execute(s.url, "--auto-approve", "--config", FAST).rc == 0


def test_data_dir_keeps_runs_across_restart():
    data = tmpdir()
    s = Server(data_dir=data)
    first = execute(s.url, "--auto-approve", "--config", FAST)
    assert first.rc == 0, first
    run_id = first.events[0]["run_id"]
    port = s.port
    s.stop()
    s2 = Server(port=port, data_dir=data)
    try:
        r = wsflow("watch", run_id, "--url", s2.url)
        assert r.rc == 0 and r.out == first.out, r
    finally:
        s2.stop()


def test_serve_port_in_use_exits_5():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = wsflow("serve", "--port", port, timeout=20)
        assert r.rc == 5, r
        assert "cannot listen" in r.err.decode()
    finally:
        blocker.close()


def test_serve_stops_cleanly_on_sigterm():
    s = Server()
    assert s.stop(signal.SIGTERM) == 0
    assert "shutting down" in s.stderr()


def test_scenario_dir_and_bad_scenario():
    d = tmpdir()
    with open(os.path.join(d, "tiny.json"), "w") as f:
        f.write('{"name":"tiny","delay_ms":0,"items":[{"event":"step_started","data":{"step_id":"a"}},'
                '{"event":"workflow_completed","data":{"status":"completed"}}]}')
    with Server("--scenario-dir", d) as s:
        r = execute(s.url, "--config", '{"scenario":"tiny"}')
        assert r.rc == 0 and [e["event_type"] for e in r.events] == ["step_started", "workflow_completed"], r
        r = execute(s.url, "--config", '{"scenario":"nope"}')
        assert r.rc == 4 and "nope" in r.err.decode(), r


def test_closed_stdout_is_noticed_while_the_run_is_quiet():
    # the demo waits at its approval gate and prints nothing more: the reader's leaving is noticed
    # anyway (`| jq 'first(...)'`), without waiting for an event that may come hours later
    with Server() as s:
        p = start("execute", "t", "--url", s.url, "--config", FAST)
        read_until(p, b"approval_requested")
        p.stdout.close()
        _, err = p.communicate(timeout=20)
        assert p.returncode == 0, (p.returncode, err)
