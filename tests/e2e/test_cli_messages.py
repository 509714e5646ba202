"""Issue 17: what the command line says to a new user: unknown commands, bad numbers, empty URLs,
a config path that is a directory, typos in --until, singulars, config show on a terminal."""
import json
import os
import pty
import re
import subprocess

from wsflow_e2e import BIN, Server, isolated_env, tmpdir, wsflow

# A value for each subcommand's positional arguments, so that only the option is wrong.
POSITIONALS = {"watch": ["r1"], "execute": ["t"], "approve": ["r1", "a1"], "cancel": ["r1"], "pause": ["r1"],
               "resume": ["r1"], "status": ["r1"], "replay": ["f"], "config": ["show"], "runs": [], "send": [],
               "sessions": [], "serve": []}


def one_short_line(r):
    err = r.err.decode()
    assert err.endswith("\n") and err.count("\n") == 1 and len(err) < 160, err
    return err


def test_an_unknown_command_is_named_and_the_nearest_suggested():
    r = wsflow("frobnicate")
    assert r.rc == 2 and r.out == b"", r
    assert "'frobnicate' is not a wsflow command" in one_short_line(r)
    r = wsflow("wach", "r1")
    assert r.rc == 2 and "did you mean 'watch'?" in one_short_line(r), r
    r = wsflow("exectue", "task", "--url", "ws://127.0.0.1:1")
    assert r.rc == 2 and "did you mean 'execute'?" in one_short_line(r), r
    r = wsflow()
    assert r.rc == 2 and "subcommand is required" in r.err.decode(), r


def numeric_options(sub):
    text = wsflow(sub, "--help-all").out.decode()
    return re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]+) (?:N|NUM)\b", text, re.M)


def test_every_numeric_option_says_what_is_wrong_in_a_short_line():
    cases = [(["watch", "r1", "--since-seq", "-3"], "--since-seq: must be 0 or more"),
             (["watch", "r1", "--tail", "abc"], "--tail: must be a number"),
             (["watch", "r1", "--retries", "-1"], "--retries: must be 0 or more"),
             (["replay", "f", "--speed", "-1"], "--speed: must be 0 or more"),
             (["serve", "--port", "70000"], "--port: must be between 0 and 65535"),
             (["send", "--queue-size", "0"], "--queue-size: must be 1 or more")]
    for args, said in cases:
        r = wsflow(*args)
        assert r.rc == 2 and said in one_short_line(r), (args, r)
    checked = 0
    for sub, positionals in POSITIONALS.items():
        for opt in numeric_options(sub):
            r = wsflow(sub, *positionals, opt, "abc")
            assert r.rc == 2 and "%s: must be a number" % opt in one_short_line(r), (sub, opt, r)
            checked += 1
    assert checked >= 15, checked


def test_an_empty_url_is_an_error():
    r = wsflow("watch", "r1", "--url", "")
    assert r.rc == 2 and "--url is empty" in one_short_line(r), r
    r = wsflow("runs", "--url", "")
    assert r.rc == 2 and "--url is empty" in one_short_line(r), r


def test_a_config_path_that_is_a_directory_is_an_error_naming_it():
    d = tmpdir()
    r = wsflow("config", "show", env={"WSFLOW_CONFIG": d})
    assert r.rc == 2 and d in r.err.decode() and "is a directory" in one_short_line(r), r
    r = wsflow("watch", "r1", env={"WSFLOW_CONFIG": d})
    assert r.rc == 2 and d in one_short_line(r), r


def test_timeout_0_is_documented_as_no_timeout():
    assert "(exit 124; 0: never)" in wsflow("watch", "--help-all").out.decode()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    assert "(exit 124; 0: never)" in open(os.path.join(root, "man", "wsflow.1")).read().replace("\\-", "-")
    assert "`--timeout 0`" in open(os.path.join(root, "README.md")).read()


def test_config_show_is_pretty_on_a_terminal_and_compact_when_piped():
    piped = wsflow("config", "show")
    assert piped.rc == 0 and piped.out.count(b"\n") == 1, piped
    compact = json.loads(piped.out)
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "config", "show"], stdout=slave, stderr=subprocess.PIPE, env=isolated_env())
    os.close(slave)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side has closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        p.wait(timeout=30)
    assert p.returncode == 0, p.stderr.read()
    text = out.decode().replace("\r\n", "\n")
    assert text.count("\n") > 10 and '\n  "retries": {' in text, text
    assert json.loads(text) == compact


def test_until_a_type_no_dialect_knows_warns_at_start():
    with Server() as s:
        r = wsflow("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--auto-approve",
                   "--until", "step_complted")
    err = r.err.decode()
    assert "warning: --until step_complted" in err and "did you mean step_completed?" in err, r
    assert r.rc == 4, r  # the run completed without the awaited event
    with Server() as s:
        r = wsflow("execute", "t", "--url", s.url, "--config", '{"delay_ms":1}', "--auto-approve",
                   "--until", "step_completed,approval")
    assert r.rc == 0 and "warning" not in r.err.decode(), r


def test_counts_of_one_are_singular():
    d = tmpdir()
    one = os.path.join(d, "one.ndjson")
    open(one, "w").write('{"event_type":"step_started","timestamp":"2026-01-01T00:00:00.000Z","run_id":"r",'
                         '"seq":1,"data":{"step_id":"s1","step_number":1}}\n')
    r = wsflow("replay", one)
    assert r.rc == 7 and "(1 event)" in r.err.decode(), r
    r = wsflow("replay", one, "--output", "pretty")
    assert "1 step: 0 completed" in r.out.decode() and ", 1 event\n" in r.out.decode(), r


def test_pong_timeout_must_be_shorter_than_ping_interval():
    """Issue 16: websocketpp restarts the wait for a pong at every ping, so a longer --pong-timeout
    would never fire: refused with one line, and said in --help-all (so in the man page)."""
    r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:1", "--ping-interval", "5s", "--pong-timeout", "5s")
    assert r.rc == 2, r
    assert "--pong-timeout (5.0 s) must be shorter than --ping-interval (5.0 s)" in one_short_line(r)
    r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:1", env={"WSFLOW_PONG_TIMEOUT": "20s"})  # ping: 15 s
    assert r.rc == 2 and "must be shorter than --ping-interval" in one_short_line(r), r
    text = " ".join(wsflow("watch", "--help-all").out.decode().split())
    assert "--pong-timeout DURATION peer is dead without a pong within this (shorter than --ping-interval)" in text
    man = " ".join(open(os.path.join(os.path.dirname(__file__), "../../man/wsflow.1")).read().split())
    assert "(shorter than \\-\\-ping\\-interval)" in man
