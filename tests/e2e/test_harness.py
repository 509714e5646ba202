"""The helpers the other tests rely on fail instead of hanging (issue 16: a loop at end of output
spun for ever)."""
import time

from wsflow_e2e import Server, read_until, start


def test_read_until_fails_when_the_output_ends_first():
    with Server() as s:
        # the `fail` scenario ends without an approval gate
        p = start("execute", "t", "--url", s.url, "--config", '{"scenario":"fail","delay_ms":1}')
        t0 = time.monotonic()
        try:
            read_until(p, b"approval_requested")
        except AssertionError as e:
            assert "stdout ended" in str(e) and "workflow_failed" in str(e), e
        else:
            raise AssertionError("read_until returned at end of output")
        assert time.monotonic() - t0 < 30


def test_read_until_fails_after_its_timeout_when_nothing_comes():
    # serve writes nothing on stdout, and never ends by itself
    p = start("serve", "--port", "0", "-q")
    t0 = time.monotonic()
    try:
        read_until(p, b"anything", timeout=0.5)
    except AssertionError as e:
        assert "within 0 s" in str(e) or "within 1 s" in str(e), e
    else:
        raise AssertionError("read_until returned without output")
    assert time.monotonic() - t0 < 15
    assert p.wait(timeout=10) != 0  # killed by read_until
