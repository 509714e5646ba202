"""Issue 17: saved output of every dialect replays with the exit status its live run had, and
replay prints for people as watch does."""
import os
import re

from wsflow_e2e import Server, tmpdir, wsflow

FAST = '{"delay_ms":1}'
FAIL = '{"scenario":"fail","delay_ms":1}'


def live_runs():
    """(name, live result, recording path) of runs of every dialect but native and cmbagent."""
    d = tmpdir()
    runs = []

    def go(name, *args):
        rec = os.path.join(d, name + ".rec.ndjson")
        runs.append((name, wsflow(*args, "--record", rec), rec))

    with Server("--dialect", "ryx") as s:
        url = s.url + "/api/workflow/stream"
        go("ryx-ok", "execute", "t", "--url", url, "--config", FAST)
        go("ryx-fail", "execute", "t", "--url", url, "--config", FAIL)
    with Server("--dialect", "a2a") as s:
        go("a2a-ok", "watch", "w1", "--url", s.url, "--dialect", "a2a")
        go("a2a-fail", "watch", "w2", "--url", s.url + "?scenario=fail", "--dialect", "a2a")
    with Server("--dialect", "aladdin") as s:
        go("aladdin-ok", "watch", "ex1", "--url", s.url, "--dialect", "aladdin")
    with Server("--dialect", "chat") as s:
        go("chat-ok", "execute", "hello", "--url", s.url + "/ws/chat", "--run-id", "sess-1")
    return d, runs


def test_saved_output_of_every_dialect_replays_with_the_live_exit_status():
    d, runs = live_runs()
    assert {name: r.rc for name, r, _ in runs} == {"ryx-ok": 0, "ryx-fail": 1, "a2a-ok": 0, "a2a-fail": 1,
                                                   "aladdin-ok": 0, "chat-ok": 0}, runs
    for name, live, rec in runs:
        saved = os.path.join(d, name + ".ndjson")
        open(saved, "wb").write(live.out)  # `wsflow watch ... > saved.ndjson`
        r = wsflow("replay", saved)
        assert (r.rc, r.out) == (live.rc, live.out), (name, r)
        assert b"ends before its run did" not in r.err, (name, r)
        r = wsflow("replay", rec)  # and the recording
        assert (r.rc, r.out) == (live.rc, live.out), (name, r)


def test_replay_honours_the_output_options_as_watch_does():
    d, runs = live_runs()
    name, live, _ = runs[0]  # ryx, completed
    saved = os.path.join(d, "saved.ndjson")
    open(saved, "wb").write(live.out)
    r = wsflow("replay", saved, "--output", "pretty", "--color", "never")
    assert r.rc == 0, r
    text = r.out.decode()
    assert not text.lstrip().startswith("{"), text[:300]
    assert re.search(r"^\d\d:\d\d:\d\d \S+ task_complete ", text, re.M), text
    assert "\x1b[" not in text
    colored = wsflow("replay", saved, "--output", "pretty", "--color", "always")
    assert colored.rc == 0 and "\x1b[" in colored.out.decode(), colored
    # from the environment too, as for watch; --output json wins over it
    r = wsflow("replay", saved, env={"WSFLOW_OUTPUT": "pretty"})
    assert not r.out.decode().startswith("{"), r
    r = wsflow("replay", saved, "--output", "json", env={"WSFLOW_OUTPUT": "pretty"})
    assert r.out == live.out, r


def test_replay_says_what_a_file_is_not():
    d = tmpdir()
    text = os.path.join(d, "notes.txt")
    open(text, "w").write("10:00:00 r-1 workflow_started  write a report\n")
    r = wsflow("replay", text)
    assert r.rc == 2 and "notes.txt:1: not a recording (--record) nor saved watch output" in r.err.decode(), r
    assert "empty" not in r.err.decode()
    one = os.path.join(d, "one-line")
    open(one, "w").write("hello")  # one line, no newline: not a torn recording
    r = wsflow("replay", one)
    assert r.rc == 2 and "not a recording" in r.err.decode(), r
    r = wsflow("replay", d)
    assert r.rc == 2 and "is a directory" in r.err.decode() and "empty" not in r.err.decode(), r
