"""Issue 17: `wsflow send` as a pipe filter: a piped file waits for the connection (backpressure)
instead of overflowing the offline queue; typed lines that are not JSON are reported, not fatal."""
import fcntl
import os
import pty
import subprocess

from wsflow_e2e import BIN, Server, free_port, isolated_env, parse_ndjson, scale, wait_for, wsflow

RETRY = ["--retry-initial", "50ms", "--retry-max-delay", "100ms", "--retries", "0"]


def pings(n):
    return b"".join(b'{"type":"ping","request_id":"p%d"}\n' % i for i in range(n))


def test_a_piped_file_waits_for_the_first_connection():
    n = scale(20000)
    with Server() as s:  # every line at once, faster than the first connection opens
        r = wsflow("send", "--url", s.url + "/ws", "--max-events", n, "--timeout", "120s", stdin=pings(n))
    assert r.rc == 0, r
    assert [e.get("request_id") for e in r.events] == ["p%d" % i for i in range(n)]


def test_a_piped_file_waits_while_the_server_is_down_and_after_a_reconnect():
    n = scale(20000)
    port = free_port()
    p = subprocess.Popen([BIN, "send", "--url", "ws://127.0.0.1:%d/ws" % port, "--max-events", str(n),
                          "--timeout", "120s", "--queue-size", "100"] + RETRY,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=isolated_env())
    try:
        data = pings(n)
        fl = fcntl.fcntl(p.stdin, fcntl.F_GETFL)
        fcntl.fcntl(p.stdin, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        sent = 0

        def pipe_full():  # wsflow stopped reading: the queue is full and nothing listens yet
            nonlocal sent
            assert p.poll() is None, p.stderr.read()
            try:
                sent += os.write(p.stdin.fileno(), data[sent:sent + 65536])
            except BlockingIOError:
                return True
            return False

        wait_for(pipe_full, 30, "wsflow to stop reading stdin")
        assert sent < len(data) and p.poll() is None
        with Server(port=port):
            fcntl.fcntl(p.stdin, fcntl.F_SETFL, fl)
            p.stdin.write(data[sent:])
            p.stdin.close()
            out = p.stdout.read()
            p.wait(timeout=120)
        err = p.stderr.read().decode()
        assert p.returncode == 0, err
        assert "giving up" not in err
        events = parse_ndjson(out)
        assert [e.get("request_id") for e in events] == ["p%d" % i for i in range(n)]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_typed_lines_that_are_not_json_are_reported_and_skipped():
    with Server() as s:
        master, slave = pty.openpty()
        p = subprocess.Popen([BIN, "send", "--url", s.url + "/ws", "--max-events", "2", "--timeout", "30s"],
                             stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=isolated_env())
        os.close(slave)
        try:
            os.write(master, b'{"type":"ping","request_id":"a"}\n')
            os.write(master, b"not json\n")
            os.write(master, b'{"type":"ping","request_id":"b"}\n')
            out, err = p.communicate(timeout=30)
        finally:
            os.close(master)
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 0, err
    assert [e.get("request_id") for e in parse_ndjson(out)] == ["a", "b"]
    assert "line 2 is not JSON" in err.decode() and "not sent" in err.decode(), err
    # piped, the same input stays strict
    with Server() as s:
        r = wsflow("send", "--url", s.url + "/ws", stdin=b'{"type":"ping"}\nnot json\n{"type":"ping"}\n')
    assert r.rc == 2 and "line 2 is not JSON" in r.err.decode(), r
