"""Issue 4: driving runs (approve, cancel, pause, resume, send), wait conditions and timeouts."""
import json
import os
import signal
import subprocess
import time

from wsflow_e2e import (Server, assert_seq_complete, execute, finish, free_port, parse_ndjson, scale, start, tmpdir,
                        wait_for, wsflow)

FAST = '{"delay_ms":1}'


def read_until(p, needle):
    got = b""
    while needle not in got:
        line = p.stdout.readline()
        assert line, "stream ended before %r; got %r" % (needle, got[-300:])
        got += line
    return got


def test_approve_rules_decide_the_outcome():
    with Server() as s:
        r = execute(s.url, "--approve", "*=approve", "--config", FAST)
        assert r.rc == 0, r
        rec = [e for e in r.events if e["event_type"] == "approval_received"]
        assert len(rec) == 1 and rec[0]["data"]["resolution"] == "approve"
        r = execute(s.url, "--approve", "after_planning=reject", "--config", FAST)
        assert r.rc == 1, r
        assert r.events[-1]["event_type"] == "workflow_failed"
        # a rule whose resolution the request does not offer: usage error naming the options
        r = execute(s.url, "--approve", "review_plan=yes", "--config", FAST)
        assert r.rc == 2 and "approve, reject, modify" in r.err.decode(), r


def test_approve_from_a_second_process():
    with Server() as s:
        watcher = start("execute", "t", "--url", s.url, "--config", FAST, "--run-id", "two")
        read_until(watcher, b"approval_requested")
        bad = wsflow("approve", "two", "approval-s3", "--url", s.url, "--resolution", "maybe")
        assert bad.rc == 2 and "allowed: approve, reject, modify" in bad.err.decode(), bad
        ok = wsflow("approve", "two", "approval-s3", "--url", s.url, "--feedback", "ok")
        assert ok.rc == 0, ok
        ack = ok.events
        assert len(ack) == 1 and ack[0]["event_type"] == "approval_received" and ack[0]["data"]["feedback"] == "ok"
        r = finish(watcher)
        assert r.rc == 0, r
        again = wsflow("approve", "two", "approval-s3", "--url", s.url)
        assert again.rc == 4, again
        unknown = wsflow("approve", "nope", "a1", "--url", s.url)
        assert unknown.rc == 4 and "not found" in unknown.err.decode(), unknown


def test_approve_with_reject_fails_the_run():
    with Server() as s:
        watcher = start("execute", "t", "--url", s.url, "--config", FAST, "--run-id", "rej")
        read_until(watcher, b"approval_requested")
        r = wsflow("approve", "rej", "approval-s3", "--url", s.url, "--reject", "--feedback", "no",
                   "--modifications", '{"steps":3}')
        assert r.rc == 0 and r.events[0]["data"]["resolution"] == "reject", r
        assert finish(watcher).rc == 1


def test_cancel_from_a_second_process():
    with Server() as s:
        watcher = start("execute", "long", "--url", s.url, "--config", '{"scenario":"long","events":100000,"delay_ms":5}',
                        "--run-id", "c1")
        head = read_until(watcher, b'"seq":3,')
        c = wsflow("cancel", "c1", "--url", s.url)
        assert c.rc == 0, c
        assert c.events[-1]["event_type"] == "workflow_cancelled"
        r = finish(watcher)
        assert r.rc == 3, r
        # the watcher saw the cancellation as the run's last event, with nothing lost before it
        events = parse_ndjson(head + r.out)
        assert_seq_complete(events)
        assert events[-1]["event_type"] == "workflow_cancelled"
        again = wsflow("cancel", "c1", "--url", s.url)
        assert again.rc == 4 and "already ended" in again.err.decode(), again


def test_pause_resume_and_timeout_on_a_paused_run():
    with Server() as s:
        d = wsflow("execute", "t", "--url", s.url, "--config", '{"scenario":"long","events":100000,"delay_ms":5}',
                   "--detach")
        assert d.rc == 0, d
        run_id = json.loads(d.out)["run_id"]
        assert d.out.decode() == '{"run_id":"%s"}\n' % run_id
        p = wsflow("pause", run_id, "--url", s.url)
        assert p.rc == 0 and p.events[0]["event_type"] == "workflow_paused", p
        assert wsflow("pause", run_id, "--url", s.url).rc == 4
        t0 = time.monotonic()
        w = wsflow("watch", run_id, "--url", s.url, "--no-history", "--timeout", "2s")
        assert w.rc == 124, w
        assert time.monotonic() - t0 >= 2.0
        assert "timed out after 2.0 s waiting for run %s to end" % run_id in w.err.decode(), w
        r = wsflow("resume", run_id, "--url", s.url)
        assert r.rc == 0 and r.events[0]["event_type"] == "workflow_resumed", r
        c = wsflow("cancel", run_id, "--url", s.url)
        assert c.rc == 0


def test_on_approval_command_answers():
    with Server() as s:
        d = tmpdir()
        hook = os.path.join(d, "hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ncat > %s/request.json\necho reject\necho 'not this time'\n" % d)
        os.chmod(hook, 0o755)
        r = execute(s.url, "--on-approval", hook, "--config", FAST)
        assert r.rc == 1, r
        rec = next(e for e in r.events if e["event_type"] == "approval_received")
        assert rec["data"]["resolution"] == "reject" and rec["data"]["feedback"] == "not this time"
        req = json.load(open(os.path.join(d, "request.json")))
        assert req["event_type"] == "approval_requested" and req["data"]["approval_id"] == "approval-s3"
        # non-zero exit: reject
        r = execute(s.url, "--on-approval", "exit 3", "--config", FAST)
        assert r.rc == 1, r
        # a hook that hangs is killed after its timeout: no answer is an error, not a hang
        t0 = time.monotonic()
        r = execute(s.url, "--on-approval", "sleep 60", "--on-approval-timeout", "500ms", "--config", FAST)
        assert r.rc == 4 and "did not answer within 500 ms" in r.err.decode(), r
        assert time.monotonic() - t0 < 20


def test_no_input_ends_at_an_unanswered_approval():
    with Server() as s:
        r = execute(s.url, "--no-input", "--config", FAST, timeout=30)
        assert r.rc == 4, r
        assert "approval-s3" in r.err.decode().strip().splitlines()[-1]
        assert r.events[-1]["event_type"] == "approval_requested"


def test_auto_approve_leaves_a_request_without_approve_like_option():
    d = tmpdir()
    with open(os.path.join(d, "odd.json"), "w") as f:
        f.write('{"name":"odd","delay_ms":0,"items":[{"approval":{"approval_id":"g","options":["left","right"]}},'
                '{"event":"workflow_completed","data":{}}]}')
    with Server("--scenario-dir", d) as s:
        r = execute(s.url, "--auto-approve", "--no-input", "--config", '{"scenario":"odd"}')
        assert r.rc == 4 and "left, right" in r.err.decode(), r


def test_wait_conditions():
    with Server() as s:
        base = execute(s.url, "--auto-approve", "--config", FAST, "--run-id", "w1")
        assert base.rc == 0
        r = wsflow("watch", "w1", "--url", s.url, "--until", "step_completed", "--until-match", "data.step_id=s2")
        assert r.rc == 0, r
        assert r.events[-1]["event_type"] == "step_completed" and r.events[-1]["data"]["step_id"] == "s2"
        r = wsflow("watch", "w1", "--url", s.url, "--max-events", "5")
        assert r.rc == 0 and len(r.events) == 5, r
        r = wsflow("watch", "w1", "--url", s.url, "--match", "data.step_number=3", "--match", "event_type~step_")
        assert r.rc == 0 and [e["event_type"] for e in r.events] == ["step_started", "step_completed"], r
        r = wsflow("watch", "w1", "--url", s.url, "--match", "data.message~^Drafting")
        assert r.rc == 0 and len(r.events) == 1, r
        # the run ended without what was awaited: not a success
        r = wsflow("watch", "w1", "--url", s.url, "--until", "step_failed")
        assert r.rc == 4 and "completed without an event of type step_failed" in r.err.decode(), r
        r = wsflow("watch", "w1", "--url", s.url, "--match", "data..x")
        assert r.rc == 2, r


def test_config_from_file_and_timeout_with_cancel():
    with Server() as s:
        cfg = os.path.join(tmpdir(), "cfg.json")
        with open(cfg, "w") as f:
            f.write('{"scenario":"long","events":100000,"delay_ms":5}')
        r = wsflow("execute", "t", "--url", s.url, "--config", "@" + cfg, "--run-id", "to", "--timeout", "1s",
                   "--cancel-on-timeout")
        assert r.rc == 124, r
        assert "cancelling run to" in r.err.decode()
        w = wsflow("watch", "to", "--url", s.url, "--tail", "1")
        assert w.rc == 3 and w.events[-1]["event_type"] == "workflow_cancelled", w
        bad = wsflow("execute", "t", "--url", s.url, "--config", "@/nonexistent/cfg.json")
        assert bad.rc == 2 and "cannot read" in bad.err.decode(), bad


def test_cancel_on_interrupt():
    with Server() as s:
        p = start("execute", "t", "--url", s.url, "--config", '{"scenario":"long","events":100000,"delay_ms":5}',
                  "--run-id", "ci", "--cancel-on-interrupt")
        read_until(p, b'"seq":2,')
        p.send_signal(signal.SIGINT)
        r = finish(p, timeout=20)
        assert r.rc == 130, r
        assert r.events[-1]["event_type"] == "workflow_cancelled", r.out[-300:]
        w = wsflow("watch", "ci", "--url", s.url, "--tail", "1")
        assert w.rc == 3


def test_send_pipes_lines_and_answers():
    with Server() as s:
        lines = b"".join(json.dumps({"type": "ping", "request_id": "p%d" % i}).encode() + b"\n" for i in range(3))
        r = wsflow("send", "--url", s.url + "/ws", "--linger", "300ms", stdin=lines)
        assert r.rc == 0, r
        assert [e.get("request_id") for e in r.events] == ["p0", "p1", "p2"]
        assert {e["event_type"] for e in r.events} == {"pong"}
        # stop at the answer we want instead of lingering
        r = wsflow("send", "--url", s.url + "/ws", "--until", "pong", "--linger", "30s",
                   stdin=b'{"type":"ping"}\n')
        assert r.rc == 0 and len(r.events) == 1 and r.elapsed < 20, r
        bad = wsflow("send", "--url", s.url + "/ws", stdin=b'{"type":"ping"}\nnot json\n')
        assert bad.rc == 2 and "line 2 is not JSON" in bad.err.decode(), bad
        txt = wsflow("send", "--url", s.url + "/ws", "--text", "--linger", "300ms", stdin=b"not json\n")
        assert txt.rc == 0 and txt.events[0]["data"]["error_type"] == "invalid_json", txt


def test_send_queues_lines_while_the_server_is_down():
    port = free_port()
    p = subprocess.Popen([os.environ.get("WSFLOW_BIN", "wsflow"), "send", "--url", "ws://127.0.0.1:%d/ws" % port,
                          "--retry-initial", "50ms", "--retry-max-delay", "100ms", "--retries", "0",
                          "--max-events", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b'{"type":"ping","request_id":"early-1"}\n{"type":"ping","request_id":"early-2"}\n')
        p.stdin.flush()
        time.sleep(0.3)  # the lines wait while nothing listens
        with Server(port=port) as s:
            out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        events = parse_ndjson(out)
        assert [e.get("request_id") for e in events] == ["early-1", "early-2"], events
    finally:
        if p.poll() is None:
            p.kill()


def test_an_on_approval_command_that_cannot_run_answers_nothing_and_is_exit_2():
    from wsflow_e2e import Server, tmpdir, wsflow
    with Server() as s:
        # (a directory: the shell's 126 even for root, who may execute any file with an x bit)
        for hook, word in (("./no-such-decider.sh", "not found, exit 127"), (tmpdir(), "not executable, exit 126")):
            r = wsflow("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--on-approval", hook, timeout=60)
            assert r.rc == 2, (hook, r)
            assert not any(e["event_type"] == "approval_received" for e in r.events), r  # nothing was answered
            assert word in r.err.decode(), (hook, r)
        # a command that runs and exits 1 still rejects
        r = wsflow("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--on-approval", "exit 1", timeout=60)
        assert r.rc == 1 and any(e["event_type"] == "approval_received" for e in r.events), r
