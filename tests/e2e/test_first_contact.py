"""Issue 17: first contact with a backend under `--dialect auto` (the default): a base URL of a
backend whose endpoint is not wsflow's own path, a dialect told by the URL's path, and a finished
MARS run, which answers nothing."""
import re

from wsflow_e2e import Server, wsflow

FAST = '{"delay_ms":1}'


def test_a_base_url_finds_the_endpoint_of_a_backend_that_starts_runs():
    for dialect, path in (("ryx", "/api/workflow/stream"), ("chat", "/ws/chat?session_id=")):
        with Server("--dialect", dialect) as s:
            r = wsflow("execute", "task", "--url", s.url, "--config", FAST, "--run-id", "r-17")
            err = r.err.decode()
            assert r.rc == 0, r
            assert r.events and all(e["dialect"] == dialect for e in r.events), r.out[:300]
            assert re.search(r"wsflow: %s/ws/r-17 (and .* )?answered 404; %s" % (re.escape(s.url), re.escape(path)), err), err
            assert re.search(r"answered: speaking %s\n" % dialect, err), err
            assert "cannot connect" not in err, err
            # -q: nothing said, the run still found
            q = wsflow("execute", "task", "--url", s.url, "--config", FAST, "-q")
            assert q.rc == 0 and q.err == b"", q


def test_a_base_url_finds_the_endpoint_of_a_backend_that_only_watches():
    with Server("--dialect", "a2a") as s:
        r = wsflow("watch", "w1", "--url", s.url)
        assert r.rc == 0, r
        assert r.events and all(e["dialect"] == "a2a" for e in r.events), r.out[:300]
        assert "/ws/workflow/w1 answered: speaking a2a" in r.err.decode(), r


def test_no_endpoint_at_a_base_url_names_every_path_tried():
    with Server("--dialect", "a2a") as s:  # none of the paths of the backends that start runs
        r = wsflow("execute", "task", "--url", s.url, "--run-id", "r-9")
        err = r.err.decode()
        assert r.rc == 5, r
        for path in ("/ws/r-9", "/api/workflow/stream", "/ws/chat?session_id=r-9"):
            assert path in err, (path, err)
        assert "404" in err and len(err.strip().splitlines()) <= 2, err
    # a URL with a path, or a dialect given, tries nothing else
    with Server("--dialect", "ryx") as s:
        r = wsflow("execute", "task", "--url", s.url + "/ws/r-1")
        assert r.rc == 5 and "/api/workflow/stream" not in r.err.decode(), r
        r = wsflow("execute", "task", "--url", s.url, "--dialect", "native")
        assert r.rc == 5 and "/api/workflow/stream" not in r.err.decode(), r


def test_a_dialect_told_by_the_url_path_is_announced():
    with Server("--dialect", "ryx") as s:
        r = wsflow("execute", "task", "--url", s.url + "/api/workflow/stream", "--config", FAST)
        assert r.rc == 0, r
        lines = r.err.decode().splitlines()
        assert "wsflow: dialect ryx (from the URL path /api/workflow/stream)" in lines, lines
        q = wsflow("execute", "task", "--url", s.url + "/api/workflow/stream", "--config", FAST, "-q")
        assert q.rc == 0 and q.err == b"", q


def test_watching_a_finished_mars_run_without_a_dialect_is_refused_at_once():
    with Server("--dialect", "cmbagent") as s:
        r = wsflow("execute", "task", "--url", s.url, "--run-id", "t1", "--auto-approve", "--config", FAST)
        assert r.rc == 0, r
        told = wsflow("watch", "t1", "--url", s.url, "--dialect", "cmbagent")
        assert told.rc == 2, told
        auto = wsflow("watch", "t1", "--url", s.url, timeout=30)
        assert auto.rc == 2, auto
        assert auto.elapsed < 5, auto.elapsed
        said = told.err.decode().strip().splitlines()[-1]
        assert auto.err.decode().strip().splitlines()[-1] == said, (auto.err, said)
        assert "reconnect" not in auto.err.decode(), auto
