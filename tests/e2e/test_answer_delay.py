"""Issue 17: no approval answer leaves wsflow sooner than --answer-delay after its request arrived
(cmbagent: 1 s), so that MARS, which starts waiting a moment after it asks, never loses one.
`serve --dialect cmbagent --mars-strict` loses an answer that comes too soon, as MARS does."""
import os

from wsflow_e2e import Server, finish, start, tmpdir, wsflow

CONFIG = '{"delay_ms":5}'


def test_an_answer_by_machine_needs_the_delay_against_mars():
    with Server("--dialect", "cmbagent", "--mars-strict") as s:
        early = wsflow("execute", "t", "--dialect", "cmbagent", "--url", s.url, "--config", CONFIG, "--auto-approve",
                       "--answer-delay", "0", timeout=60)
        assert early.rc == 1 and "Approval approval-s3 not found" in early.err.decode(), early
        r = wsflow("execute", "t", "--dialect", "cmbagent", "--url", s.url, "--config", CONFIG, "--auto-approve",
                   timeout=60)
        assert r.rc == 0 and r.events[-1]["event_type"] == "workflow_completed", r
        env = wsflow("execute", "t", "--dialect", "cmbagent", "--url", s.url, "--config", CONFIG, "--auto-approve",
                     env={"WSFLOW_ANSWER_DELAY": "0"}, timeout=60)
        assert env.rc == 1, env


def test_the_holder_waits_out_the_delay_for_an_approve_from_another_process():
    d = tmpdir()
    os.chmod(d, 0o700)
    env = {"XDG_RUNTIME_DIR": d}
    with Server("--dialect", "cmbagent", "--mars-strict") as s:
        holder = start("execute", "t", "--dialect", "cmbagent", "--url", s.url, "--config", CONFIG, "--run-id", "m1",
                       env=env)
        got = b""
        while b"approval_requested" not in got:
            line = holder.stdout.readline()
            assert line, got
            got += line
        a = wsflow("approve", "m1", "approval-s3", "--dialect", "cmbagent", "--url", s.url, env=env, timeout=30)
        assert a.rc == 0 and b"local session" in a.err, a
        res = finish(holder)
        assert res.rc == 0, res
