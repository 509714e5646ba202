"""Issue 15: several runs in one watch (native runs on one connection), cancel RUN..., --runs-from."""
import json
import os
import subprocess
import time

from wsflow_e2e import BIN, Server, assert_seq_complete, finish, isolated_env, parse_ndjson, scale, start, tmpdir, wsflow


def read_until(p, needle):
    got = b""
    while needle not in got:
        line = p.stdout.readline()
        assert line, "stream ended before %r" % needle
        got += line
    return got


def runtime_dir():
    d = tmpdir()
    os.chmod(d, 0o700)
    return {"XDG_RUNTIME_DIR": d}


def detach(url, config, env=None):
    r = wsflow("execute", "t", "--url", url, "--detach", "-q", "--config", json.dumps(config), env=env)
    assert r.rc == 0, r
    return json.loads(r.lines[0])["run_id"]


def by_run(events):
    runs = {}
    for e in events:
        runs.setdefault(e["run_id"], []).append(e)
    return runs


def test_three_runs_completed_failed_cancelled():
    env = runtime_dir()
    with Server() as s:
        a = detach(s.url, {"scenario": "long", "events": 30, "delay_ms": 10})
        b = detach(s.url, {"scenario": "fail", "delay_ms": 10})
        c = detach(s.url, {"scenario": "long", "events": scale(100000), "delay_ms": 20})
        summary = os.path.join(tmpdir(), "s.json")
        w = start("watch", a, b, c, "--url", s.url, "--summary", summary, env=env)
        head = read_until(w, ('"run_id":"%s"' % c).encode())
        # a cancel from another process goes through the watch that holds the run
        r = wsflow("cancel", c, "--url", s.url, env=env)
        assert r.rc == 0 and b"local session" in r.err, r
        res = finish(w)
        assert res.rc == 1, res  # b failed: the first run, in the order given, that did not complete
        runs = by_run(parse_ndjson(head + res.out))
        for rid in (a, b, c):
            assert_seq_complete(runs[rid])
        assert runs[a][-1]["event_type"] == "workflow_completed"
        assert runs[b][-1]["event_type"] == "workflow_failed"
        assert runs[c][-1]["event_type"] == "workflow_cancelled"
        err = res.err.decode()
        assert "wsflow: run %s failed: step s1 failed after 2 attempts" % b in err, err
        assert "wsflow: run %s cancelled: cancelled by client" % c in err, err
        assert "run %s completed" % a not in err and "3 runs: 1 completed, 1 failed, 1 cancelled" in err, err
        with open(summary) as f:
            sm = json.load(f)
        assert [(r["run_id"], r["exit_status"]) for r in sm["runs"]] == [(a, 0), (b, 1), (c, 3)], sm
        assert sm["exit_status"] == 1 and sm["run_id"] == b and sm["events"] == sum(len(v) for v in runs.values())
        assert sm["runs"][1]["reason"] == "step s1 failed after 2 attempts" and sm["runs"][0]["reason"] == ""


def test_runs_from_stdin_fed_slowly_ends_when_stdin_closes_and_every_run_ended():
    with Server() as s:
        ids = [detach(s.url, {"scenario": "long", "events": 20, "delay_ms": 5}) for _ in range(3)]
        p = subprocess.Popen([BIN, "watch", "--runs-from", "-", "--url", s.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=isolated_env())
        for i, rid in enumerate(ids):
            # execute --detach's own lines are taken as they are
            p.stdin.write((json.dumps({"run_id": rid}) if i == 1 else rid).encode() + b"\n")
            p.stdin.flush()
            time.sleep(0.3)
        got = b""
        while got.count(b'"event_type":"workflow_completed"') < len(ids):  # every run given has ended
            line = p.stdout.readline()
            assert line, "stdout ended before every run did"
            got += line
        time.sleep(0.3)  # time enough for a watch that wrongly ends now to have done so
        assert p.poll() is None  # stdin is still open: more runs may come
        p.stdin.write(b"# done\n")
        p.stdin.close()
        res = finish(p, timeout=30)
        assert res.rc == 0, res
        runs = by_run(parse_ndjson(got + res.out))
        assert sorted(runs) == sorted(ids)
        for rid in ids:
            assert_seq_complete(runs[rid])
            assert runs[rid][-1]["event_type"] == "workflow_completed"


def test_a_dropped_connection_with_20_runs_open_leaves_every_run_whole():
    with Server("--drop-every", "37") as s:
        n = scale(60)
        ids = [detach(s.url, {"scenario": "long", "events": n, "delay_ms": 5}) for _ in range(20)]
        r = wsflow("watch", *ids, "--url", s.url, "--retry-initial", "10ms", "--summary", os.path.join(tmpdir(), "s.json"),
                   timeout=120)
        assert r.rc == 0, r
        runs = by_run(r.events)
        assert sorted(runs) == sorted(ids)
        for rid in ids:
            assert_seq_complete(runs[rid])  # no event lost, none printed twice
            assert runs[rid][-1]["event_type"] == "workflow_completed"
        assert "resuming every run from its last seq" in r.err.decode(), r


def test_fail_fast_cancel_rest():
    with Server() as s:
        a = detach(s.url, {"scenario": "long", "events": scale(100000), "delay_ms": 20})
        b = detach(s.url, {"scenario": "fail", "delay_ms": 50})
        r = wsflow("watch", a, b, "--url", s.url, "--fail-fast", "--cancel-rest", timeout=60)
        assert r.rc == 1, r  # the status of the run that did not complete
        runs = by_run(r.events)
        assert runs[b][-1]["event_type"] == "workflow_failed"
        assert runs[a][-1]["event_type"] == "workflow_cancelled", runs[a][-3:]
        st = wsflow("status", a, "--url", s.url)
        assert b'"cancelled"' in st.out, st


def test_approve_through_the_process_that_holds_several_runs():
    env = runtime_dir()
    with Server() as s:
        x = detach(s.url, {"delay_ms": 1})
        y = detach(s.url, {"delay_ms": 1})
        w = start("watch", x, y, "--url", s.url, env=env)
        got = b""
        while got.count(b"approval_requested") < 2:
            line = w.stdout.readline()
            assert line
            got += line
        listed = [json.loads(l) for l in wsflow("sessions", env=env).lines]
        assert sorted(l["run_id"] for l in listed) == sorted([x, y]), listed
        assert len({l["pid"] for l in listed}) == 1  # one process, one socket
        for rid in (x, y):
            a = wsflow("approve", rid, "approval-s3", "--url", s.url, env=env)
            assert a.rc == 0 and b"local session" in a.err, a
        res = finish(w)
        assert res.rc == 0, res
        assert os.listdir(os.path.join(env["XDG_RUNTIME_DIR"], "wsflow")) == []


def test_cancel_several_runs_each_on_its_own_line():
    with Server() as s:
        ids = [detach(s.url, {"scenario": "long", "events": scale(100000), "delay_ms": 20}) for _ in range(2)]
        r = wsflow("cancel", ids[0], "--runs-from", "-", "--url", s.url, stdin=(ids[1] + "\n").encode())
        assert r.rc == 0, r
        assert [e["run_id"] for e in r.events] == ids and all(e["event_type"] == "workflow_cancelled" for e in r.events)
        again = wsflow("cancel", *ids, "--url", s.url)
        assert again.rc == 4 and again.err.decode().count("has already ended") == 2, again


def test_options_that_name_one_point_in_one_run_are_usage_errors():
    for extra in (["--since-seq", "3"], ["--tail", "2"], ["--no-history"], ["--record", "/tmp/x.rec"]):
        r = wsflow("watch", "a", "b", "--url", "ws://127.0.0.1:9", *extra)
        assert r.rc == 2 and r.out == b"" and len(r.err.splitlines()) == 1, (extra, r)
    r = wsflow("watch", "--runs-from", "/nonexistent/ids", "--url", "ws://127.0.0.1:9")
    assert r.rc == 2 and b"cannot read /nonexistent/ids" in r.err, r
    r = wsflow("watch", "--url", "ws://127.0.0.1:9")
    assert r.rc == 2 and b"needs a run id" in r.err, r


def test_a_socket_per_run_dialect_follows_each_run_and_cancel_rest_reaches_runs_still_waiting():
    # a2a has one socket per workflow: each run gets a session of its own, at most
    # --max-connections at once. serve's a2a starts a workflow when its first socket connects,
    # with the scenario of that socket's query; later sockets join it whatever they ask.
    with Server("--dialect", "a2a", "--a2a-coordinator") as s:
        r = wsflow("watch", "v1", "v2", "v3", "--url", s.url, "--dialect", "a2a", "--max-connections", "1",
                   timeout=60)
        assert r.rc == 0, r
        runs = by_run(r.events)
        assert sorted(runs) == ["v1", "v2", "v3"], r
        for rid, evs in runs.items():
            assert_seq_complete(evs)
            assert evs[-1]["data"]["state"] == "completed", evs[-1]
        # With one connection at a time each run is followed to its end before the next starts.
        order = [e["run_id"] for e in r.events]
        assert order == sorted(order), order

        long_q = s.url + "/?scenario=long&events=%d&delay_ms=20" % scale(100000)
        for rid in ("long1", "long2"):  # started by a first socket that leaves at once
            pre = wsflow("watch", rid, "--url", long_q, "--dialect", "a2a", "--max-events", "1", "-q")
            assert pre.rc == 0 and len(pre.events) == 1, pre
        summary = os.path.join(tmpdir(), "s.json")
        r = wsflow("watch", "f1", "long1", "long2", "--url", s.url + "/?scenario=fail", "--dialect", "a2a",
                   "--fail-fast", "--cancel-rest", "--max-connections", "1", "--summary", summary, timeout=60)
        assert r.rc == 1, r  # f1's failure decides; long1 and long2 waited for a connection
        got = {x["run_id"]: x for x in json.load(open(summary))["runs"]}
        assert got["f1"]["exit_status"] == 1
        for rid in ("long1", "long2"):
            assert got[rid]["exit_status"] == 3 and "--fail-fast after run f1" in got[rid]["reason"], got[rid]
            assert b"cancelling run " + rid.encode() in r.err, r
            after = wsflow("watch", rid, "--url", s.url, "--dialect", "a2a", timeout=30)
            assert after.rc == 3 and after.events[-1]["data"]["stage"] == "cancelled", after


def test_execute_detach_with_a_dialect_that_acknowledges_no_start():
    # MARS (cmbagent) and chat acknowledge no start: the run's first event says it has started.
    for dialect in ("cmbagent", "chat"):
        with Server("--dialect", dialect) as s:
            r = wsflow("execute", "--url", s.url, "--dialect", dialect, "--detach", "--config",
                       json.dumps({"scenario": "long", "events": scale(100000), "delay_ms": 20}), "t", timeout=30)
            assert r.rc == 0 and len(r.lines) == 1, (dialect, r)
            assert list(json.loads(r.lines[0])) == ["run_id"], r


def test_runs_whose_one_socket_another_process_holds_are_followed_through_it():
    # cmbagent allows one socket per run: `execute` holds it, and `watch A B` goes through each
    # holder's control socket. --fail-fast --cancel-rest then cancels through the holder.
    env = runtime_dir()
    with Server("--dialect", "cmbagent") as s:
        def hold(config):
            p = start("execute", "t", "--url", s.url, "--dialect", "cmbagent", "-q", "--config", json.dumps(config),
                      env=env)
            first = json.loads(p.stdout.readline())
            return p, first["run_id"]

        # Runs of a few seconds: watch must find their holders still holding them.
        pa, a = hold({"scenario": "long", "events": 150, "delay_ms": 20})
        pb, b = hold({"scenario": "long", "events": 100, "delay_ms": 20})
        summary = os.path.join(env["XDG_RUNTIME_DIR"], "summary.json")
        r = wsflow("watch", a, b, "--url", s.url, "--dialect", "cmbagent", "--summary", summary, env=env, timeout=60)
        assert r.rc == 0, r
        runs = by_run(r.events)
        assert len(runs[a]) == 154 and len(runs[b]) == 104, {k: len(v) for k, v in runs.items()}
        for evs in runs.values():
            assert_seq_complete(evs)
        assert r.err.count(b"through the local session of pid") == 2, r
        # --summary counts a held run's events as it does a run followed directly
        with open(summary) as fh:
            sm = json.load(fh)
        got = {x["run_id"]: x for x in sm["runs"]}
        for run, n in ((a, 154), (b, 104)):
            assert got[run]["events"] == n and got[run]["last_seq"] == runs[run][-1]["seq"], got[run]
            assert got[run]["outcome"] == "completed" and "first_event_at" in got[run], got[run]
        assert sm["events"] == 258 and sm["last_seq"] == got[a]["last_seq"], sm
        for p in (pa, pb):
            finish(p)

        pc, c = hold({"scenario": "long", "events": scale(100000), "delay_ms": 20})
        pf, f = hold({"scenario": "fail", "delay_ms": 300})
        r = wsflow("watch", c, f, "--url", s.url, "--dialect", "cmbagent", "--fail-fast", "--cancel-rest", env=env,
                   timeout=60)
        assert r.rc == 1, r  # f failed; c was cancelled through its holder
        assert b"cancelling run " + c.encode() + b" through the process that holds it" in r.err, r
        assert finish(pc).rc == 3
        finish(pf)
