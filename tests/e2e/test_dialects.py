"""Issue 5: wsflow against `wsflow serve --dialect NAME` speaking each real backend's protocol."""
import json
import os
import signal

from wsflow_e2e import Server, assert_seq_complete, finish, parse_ndjson, start, wsflow

FAST = '{"delay_ms":1}'
RETRY = ["--retry-initial", "20ms", "--retry-max-delay", "100ms", "--retries", "20"]


def check_stream(r, dialect, rc=0):
    assert r.rc == rc, r
    events = r.events
    assert events and all(e["dialect"] == dialect for e in events), r.out[:500]
    assert_seq_complete(events)
    return events


def test_cmbagent_execute_with_approvals_and_outcomes():
    with Server("--dialect", "cmbagent") as s:
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--run-id", "task-1", "--auto-approve",
                   "--config", FAST)
        events = check_stream(r, "cmbagent")
        types = [e["event_type"] for e in events]
        assert "step_start" in types and "approval_received" in types and types[-1] == "workflow_completed", types
        assert {e["run_id"] for e in events} == {"task-1"}  # keyed by the URL's task id
        # MARS acknowledges "approve" with "approved": false; the run goes on and so does wsflow (exit 0)
        ack = [e for e in events if e["event_type"] == "approval_received"]
        assert ack and ack[0]["data"]["approved"] is False and ack[0]["data"]["resolution"] == "approve", ack
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--config", '{"scenario":"fail","delay_ms":1}')
        events = check_stream(r, "cmbagent", rc=1)
        assert [e["event_type"] for e in events].count("workflow_failed") == 1  # the double failure is one
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--approve", "*=reject", "--config", FAST)
        assert r.rc == 1, r


def test_cmbagent_is_detected_and_second_processes_are_refused():
    with Server("--dialect", "cmbagent") as s:
        r = wsflow("execute", "t", "--url", s.url, "--auto-approve", "--config", FAST)
        check_stream(r, "cmbagent")
        assert "wsflow: dialect cmbagent (from the first frames)" in r.err.decode().splitlines()
        for args in (["watch", "task-x"], ["cancel", "task-x"], ["approve", "task-x", "a1"]):
            r = wsflow(*args, "--url", s.url, "--dialect", "cmbagent")
            assert r.rc == 2 and "one socket per run" in r.err.decode(), (args, r)


def test_cmbagent_cancel_on_interrupt_is_one_cancellation():
    with Server("--dialect", "cmbagent") as s:
        p = start("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--cancel-on-interrupt",
                  "--config", '{"scenario":"long","events":100000,"delay_ms":5}')
        line = p.stdout.readline()
        assert line
        p.send_signal(signal.SIGINT)
        r = finish(p, timeout=30)
        assert r.rc == 130, r
        events = parse_ndjson(line + r.out)
        assert events[-1]["event_type"] == "workflow_failed" and events[-1]["data"]["status"] == "cancelled"


def test_cmbagent_resume_with_request_state_prints_no_duplicate():
    with Server("--dialect", "cmbagent", "--drop-every", "10") as s:
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--auto-approve", "--config",
                   '{"delay_ms":5}', *RETRY)
        events = check_stream(r, "cmbagent")
        assert "reconnected" in r.err.decode(), r.err
        # (request_state answers each reconnect with the state at that moment: two reconnects in the
        # same state are two equal workflow_state_changed events, not a duplicate)
        frames = [json.dumps(e["data"], sort_keys=True) + e["event_type"] for e in events
                  if e["event_type"] != "workflow_state_changed"]
        assert len(frames) == len(set(frames)), "a duplicate was printed"
        assert events[-1]["event_type"] == "workflow_completed"


def test_cmbagent_strict_refuses_resume_with_exit_7():
    with Server("--dialect", "cmbagent", "--mars-strict", "--drop-every", "10") as s:
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--auto-approve", "--config",
                   '{"delay_ms":5}', *RETRY)
        assert r.rc == 7, r
        last = r.err.decode().strip().splitlines()[-1]
        assert "cannot resume" in last and "after seq 10" in last, last
        assert len(r.events) == 10


def test_ryx_execute_and_unsupported_actions():
    with Server("--dialect", "ryx") as s:
        url = s.url + "/api/workflow/stream"  # the path names the dialect
        r = wsflow("execute", "t", "--url", url, "--config", FAST)
        events = check_stream(r, "ryx")
        types = [e["event_type"] for e in events]
        assert types[0] == "step_start" and types[-1] == "task_complete", types
        r = wsflow("execute", "t", "--url", url, "--config", '{"scenario":"fail","delay_ms":1}')
        check_stream(r, "ryx", rc=1)
        for args in (["watch", "r1"], ["pause", "r1"], ["cancel", "r1"]):
            r = wsflow(*args, "--url", url)
            assert r.rc == 2 and "not supported by the ryx dialect" in r.err.decode(), (args, r)


def test_ryx_lost_connection_mid_run_is_exit_7():
    with Server("--dialect", "ryx", "--drop-every", "3") as s:
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "ryx", "--config", '{"delay_ms":20}', *RETRY)
        assert r.rc == 7 and "cannot resume" in r.err.decode(), r
        assert_seq_complete(r.events)


def test_a2a_watch_cancel_and_refusals():
    with Server("--dialect", "a2a") as s:
        r = wsflow("watch", "w1", "--url", s.url, "--dialect", "a2a")
        events = check_stream(r, "a2a")
        assert events[-1]["event_type"] == "progress" and events[-1]["data"]["state"] == "completed"
        r = wsflow("watch", "w2", "--url", s.url + "?scenario=fail", "--dialect", "a2a")
        check_stream(r, "a2a", rc=1)
        # as shipped: no coordinator, so a cancel is refused and the run goes on
        p = start("watch", "w3", "--url", s.url + "?delay_ms=50", "--dialect", "a2a")
        assert p.stdout.readline()
        c = wsflow("cancel", "w3", "--url", s.url, "--dialect", "a2a")
        assert c.rc == 4 and "Coordinator not available" in c.err.decode(), c
        assert finish(p).rc == 0
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "a2a")
        assert r.rc == 2 and "not supported by the a2a dialect" in r.err.decode(), r
    with Server("--dialect", "a2a", "--a2a-coordinator") as s:
        p = start("watch", "w4", "--url", s.url + "?delay_ms=50", "--dialect", "a2a")
        assert p.stdout.readline()
        pz = wsflow("pause", "w4", "--url", s.url, "--dialect", "a2a")
        assert pz.rc == 4 and "not_implemented" in pz.err.decode(), pz
        c = wsflow("cancel", "w4", "--url", s.url, "--dialect", "a2a")
        assert c.rc == 0, c
        assert finish(p).rc == 3


def test_aladdin_watch_detected_and_unsupported_controls():
    with Server("--dialect", "aladdin") as s:
        r = wsflow("watch", "ex1", "--url", s.url, "--dialect", "aladdin")
        events = check_stream(r, "aladdin")
        assert events[-1]["event_type"] == "orchestration-complete"
        assert all(e["run_id"] == "ex1" for e in events)
        r = wsflow("watch", "ex2", "--url", s.url)  # detected from its first frame
        check_stream(r, "aladdin")
        assert "wsflow: dialect aladdin (from the first frames)" in r.err.decode().splitlines()
        r = wsflow("cancel", "ex1", "--url", s.url, "--dialect", "aladdin")
        assert r.rc == 2, r


def test_chat_execute_is_one_exchange():
    with Server("--dialect", "chat") as s:
        r = wsflow("execute", "hello", "--url", s.url + "/ws/chat", "--run-id", "sess-1")
        events = check_stream(r, "chat")
        assert events[-1]["event_type"] == "message"
        assert all(e["run_id"] == "sess-1" for e in events)


def test_keep_raw_and_heartbeats():
    with Server("--dialect", "cmbagent", "--heartbeat-interval", "50ms") as s:
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--auto-approve", "--keep-raw",
                   "--config", '{"delay_ms":20}')
        events = check_stream(r, "cmbagent")
        assert all("raw" in e and "event_type" in e["raw"] for e in events)
        assert "heartbeat" not in [e["event_type"] for e in events]
        r = wsflow("execute", "t", "--url", s.url, "--dialect", "cmbagent", "--auto-approve", "--show-heartbeats",
                   "--config", '{"delay_ms":20}')
        assert r.rc == 0 and "heartbeat" in [e["event_type"] for e in r.events], r
