"""Issue 17: first contact with a backend under `--dialect auto` (the default): a base URL of a
backend whose endpoint is not wsflow's own path, a dialect told by the URL's path, and a finished
MARS run, which answers nothing."""
from wsflow_e2e import Server, wsflow

FAST = '{"delay_ms":1}'


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
