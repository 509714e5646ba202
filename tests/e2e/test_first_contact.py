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
