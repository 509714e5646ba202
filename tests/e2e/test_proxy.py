"""Through a real HTTP CONNECT proxy (Debian's tinyproxy, started here with its own config), and
permessage-deflate against a node `ws` server with compression on (../shared/bench/event-server.js)."""
import os
import shutil
import socket
import subprocess

from wsflow_e2e import (SHARED, Server, Skip, assert_seq_complete, execute, free_port, node_ws_available, scale,
                        tmpdir, wait_for, wsflow)

FAIL = ["--config", '{"scenario":"fail"}']  # ends by itself, exit 1, no approval to wait for


class Tinyproxy:
    """tinyproxy on 127.0.0.1 (the packaged config allows CONNECT to 443 and 563 only; ours to any
    port unless `connect_port` is given), optionally asking for basic-auth credentials."""

    def __init__(self, connect_port=None, auth=None):
        binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        if not os.path.exists(binary):
            raise Skip("tinyproxy is not installed (scripts/install-deps.sh installs it)")
        self.dir = tmpdir()
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        conf = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 30", "MaxClients 20", "LogLevel Connect",
                "Allow 127.0.0.1", 'LogFile "%s"' % self.log, 'PidFile "%s"' % os.path.join(self.dir, "pid")]
        if connect_port:
            conf.append("ConnectPort %d" % connect_port)
        if auth:
            conf.append("BasicAuth %s %s" % auth)
        path = os.path.join(self.dir, "tinyproxy.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = subprocess.Popen([binary, "-d", "-c", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, 10, "tinyproxy to listen")
        self.url = "http://127.0.0.1:%d" % self.port

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("tinyproxy exited %s" % self.proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def tunnels(self):
        return open(self.log).read().count("Established connection")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def test_through_a_connect_proxy_from_flag_and_environment():
    with Server() as s, Tinyproxy() as proxy:
        r = execute(s.url, "--proxy", proxy.url, "-v", *FAIL)
        assert r.rc == 1, r
        assert_seq_complete(r.events)
        assert r.events[-1]["event_type"] == "workflow_failed"
        assert "through the proxy %s (--proxy)" % proxy.url in r.err.decode()
        assert proxy.tunnels() == 1
        # The same from the environment: http_proxy for ws:// (lower case wins over upper case).
        r = wsflow("execute", "e2e", "--url", s.url, "-v", *FAIL,
                   env={"http_proxy": proxy.url, "HTTP_PROXY": "http://127.0.0.1:9"})
        assert r.rc == 1 and "(http_proxy)" in r.err.decode(), r
        assert proxy.tunnels() == 2


def test_no_proxy_bypasses_the_environments_proxy():
    with Server() as s, Tinyproxy() as proxy:
        r = wsflow("execute", "e2e", "--url", s.url, "-v", *FAIL, env={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"})
        assert r.rc == 1, r
        assert "directly (NO_PROXY lists 127.0.0.1)" in r.err.decode()
        assert proxy.tunnels() == 0
        # --proxy none ignores the variables too.
        r = wsflow("execute", "e2e", "--url", s.url, "--proxy", "none", *FAIL, env={"HTTP_PROXY": "http://127.0.0.1:9"})
        assert r.rc == 1, r


def test_dead_proxy_exits_5_naming_it():
    port = free_port()
    with Server() as s:
        r = execute(s.url, "--proxy", "http://127.0.0.1:%d" % port, "--retries", "1", "--retry-initial", "10ms")
        assert r.rc == 5, r
        last = r.err.decode().strip().splitlines()[-1]
        assert "proxy http://127.0.0.1:%d" % port in last and "refused" in last.lower(), last
        assert r.out == b""


def test_proxy_refusal_and_credentials():
    with Server() as s:
        with Tinyproxy(connect_port=443) as proxy:  # CONNECT to our port is not allowed there
            r = execute(s.url, "--proxy", proxy.url)
            assert r.rc == 5, r
            assert "refused the tunnel to 127.0.0.1: 403" in r.err.decode(), r
            assert "retrying" not in r.err.decode() and "reconnecting" not in r.err.decode()
        with Tinyproxy(auth=("alice", "pr0xy-s3cret")) as proxy:
            r = execute(s.url, "--proxy", proxy.url)
            assert r.rc == 6 and "407" in r.err.decode() and "--proxy-auth-file" in r.err.decode(), r
            last = r.err.decode().strip().splitlines()[-1]
            assert last.startswith("wsflow: authentication rejected: proxy http://127.0.0.1:"), last
            wrong = proxy.url.replace("http://", "http://alice:nope@")
            r = execute(s.url, "--proxy", wrong)
            assert r.rc == 6 and "wrong credentials" in r.err.decode() and "nope" not in r.err.decode(), r
            with_creds = proxy.url.replace("http://", "http://alice:pr0xy-s3cret@")
            r = execute(s.url, "--proxy", with_creds, "-v", *FAIL)
            assert r.rc == 1, r
            assert "pr0xy-s3cret" not in r.err.decode()
            auth = os.path.join(tmpdir(), "proxy-auth")
            with open(auth, "w") as f:
                f.write("alice:pr0xy-s3cret\n")
            r = execute(s.url, "--proxy", proxy.url, "--proxy-auth-file", auth, "-vv", *FAIL)
            assert r.rc == 1, r
            assert "pr0xy-s3cret" not in r.err.decode()


def test_bad_proxy_settings_are_usage_errors():
    for args, env, words in ((["--proxy", "socks5://127.0.0.1:1080"], {}, "SOCKS"),
                             ([], {"ALL_PROXY": "https://u:hidden@127.0.0.1:3128"}, "ALL_PROXY"),
                             (["--proxy", "http://127.0.0.1:3128", "--proxy-auth-file", "/nonexistent/x"], {},
                              "/nonexistent/x")):
        r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:9", *args, env=env)
        assert r.rc == 2, (args, r)
        assert words in r.err.decode() and "hidden" not in r.err.decode(), (args, r)
        assert len(r.err.decode().strip().splitlines()) == 1, (args, r)


def _event_server(*extra):
    if not node_ws_available():
        raise Skip("node and npm ws (../shared/bench/setup.sh) are not installed")
    script = os.path.join(SHARED, "bench", "event-server.js")
    if not os.path.exists(script):
        raise Skip("%s is not there (../shared is beside the repository in CI)" % script)
    prefix = os.environ.get("PEERBENCH_PREFIX", "/tmp/peerbench")
    p = subprocess.Popen(["node", script, "--port", "0"] + list(extra), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=dict(os.environ, NODE_PATH=os.path.join(prefix, "node_modules")))
    header = p.stderr.readline().decode()
    assert header.startswith("listening"), header
    return p, int(header.split()[1]), int(header.split("bytes=")[1])


def test_compress_negotiates_permessage_deflate_and_keeps_the_stream_intact():
    count = scale(20000)
    p, port, total_bytes = _event_server("--deflate", "--count", str(count), "--size", "300")
    try:
        r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "--compress", "-v", timeout=120)
        assert r.rc == 0, r
        assert "permessage-deflate negotiated" in r.err.decode(), r.err
        events = r.events
        assert len(events) == count + 1 and events[-1]["event_type"] == "workflow_completed"
        assert_seq_complete(events)
        assert len(r.out) == total_bytes
        # Without --compress nothing is offered: the same server sends plain frames.
        r = wsflow("watch", "r1", "--url", "ws://127.0.0.1:%d" % port, "-v", timeout=120)
        assert r.rc == 0 and "permessage-deflate" not in r.err.decode(), r
        assert len(r.out) == total_bytes
    finally:
        p.kill()
        p.wait()


def test_compress_against_a_server_without_it_still_works():
    with Server() as s:
        r = execute(s.url, "--compress", "-v", *FAIL)
        assert r.rc == 1, r
        assert "declined permessage-deflate" in r.err.decode()
