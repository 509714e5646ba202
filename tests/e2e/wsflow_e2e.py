"""Helpers for end-to-end tests: start real `wsflow serve` processes on 127.0.0.1 with ephemeral
ports, run the real binary with a bounded time, and check its stdout line by line."""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("WSFLOW_BIN", os.path.join(os.path.dirname(__file__), "../../build/wsflow"))
SHARED = os.environ.get("WSFLOW_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
# Sanitizer builds are several times slower: they scale event counts down, never assertions.
SCALE = float(os.environ.get("WSFLOW_TEST_SCALE", "1"))

_procs = []
_dirs = []


class Skip(Exception):
    pass


def scale(n):
    return max(1, int(n * SCALE))


def tmpdir():
    d = tempfile.mkdtemp(prefix="wsflow-e2e-")
    _dirs.append(d)
    return d


def cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


def wait_for(cond, timeout=10.0, what="condition"):
    """Polls cond() until it is true; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))


def free_port():
    """A port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A `wsflow serve` on 127.0.0.1. port=0 picks a free one (read back from --port-file)."""

    def __init__(self, *args, port=0, data_dir=None):
        self.args = list(args)
        self.data_dir = data_dir
        self.port = port
        self.dir = tmpdir()
        self.proc = None
        self.start()

    def start(self):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [BIN, "serve", "--port", str(self.port), "--port-file", port_file] + self.args
        if self.data_dir:
            cmd += ["--data-dir", self.data_dir]
        self.stderr_path = os.path.join(self.dir, "serve.%d.err" % len(_procs))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.stderr_path, "w"))
        _procs.append(self.proc)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("serve exited %s: %s" % (self.proc.returncode, self.stderr()))
            return os.path.exists(port_file)

        wait_for(ready, 15, "serve to listen")
        self.port = int(open(port_file).read())
        self.url = "ws://127.0.0.1:%d" % self.port

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Result:
    def __init__(self, rc, out, err, elapsed, maxrss_kb=0):
        self.rc, self.out, self.err, self.elapsed, self.maxrss_kb = rc, out, err, elapsed, maxrss_kb

    @property
    def lines(self):
        return self.out.decode().splitlines()

    @property
    def events(self):
        return parse_ndjson(self.out)

    def __repr__(self):
        return "rc=%s stderr=%r stdout(%d bytes)=%r" % (self.rc, self.err.decode(errors="replace")[-2000:],
                                                        len(self.out), self.out[:300])


def isolated_env():
    """This process's environment without the user's wsflow settings: no WSFLOW_* variables, and
    a config directory of its own (empty unless a test writes a config file into it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WSFLOW_") or k in ("WSFLOW_BIN", "WSFLOW_SHARED",
                                                                                    "WSFLOW_TEST_SCALE")}
    for k in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):  # loopback tests go direct
        env.pop(k, None)
        env.pop(k.upper(), None)
    env["XDG_CONFIG_HOME"] = _config_home()
    return env


_config_home_dir = []


def _config_home():
    if not _config_home_dir:
        _config_home_dir.append(tmpdir())
    return _config_home_dir[0]


def wsflow(*args, timeout=120, stdin=None, env=None):
    """Runs the real binary to its end (killed after timeout, which fails the test)."""
    full_env = isolated_env()
    if env:
        full_env.update(env)
    t0 = time.monotonic()
    p = subprocess.Popen([BIN] + [str(a) for a in args], stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    _procs.append(p)
    try:
        out, err = p.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("wsflow %s did not end within %d s; stderr: %s" % (args, timeout, err.decode()[-2000:]))
    return Result(p.returncode, out, err, time.monotonic() - t0)


def start(*args, env=None, stdout=subprocess.PIPE):
    """Starts the real binary in the background; the caller waits for it."""
    full_env = isolated_env()
    if env:
        full_env.update(env)
    p = subprocess.Popen([BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=subprocess.PIPE, env=full_env)
    _procs.append(p)
    return p


def finish(p, timeout=120):
    """Waits for a started process, reading the rest of its output through the same buffered
    readers the caller may have used already (communicate() would skip what they buffered)."""
    import threading
    out, err = [], []
    readers = []
    for stream, sink in ((p.stdout, out), (p.stderr, err)):
        if stream is not None and not stream.closed:
            t = threading.Thread(target=lambda s=stream, k=sink: k.append(s.read()), daemon=True)
            t.start()
            readers.append(t)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        for t in readers:
            t.join(5)
        raise AssertionError("process did not end within %d s; stderr: %s" % (timeout, b"".join(err).decode()[-2000:]))
    for t in readers:
        t.join(30)
    return Result(p.returncode, b"".join(out), b"".join(err), 0)


def read_until(p, needle=None, lines=None, timeout=60.0, stderr=False):
    """Reads a started process's stdout (stderr with stderr=True) line by line until a line contains
    `needle` (bytes), or until `lines` lines were read; returns what was read. Fails, showing the
    tail of what was read, when the output ends first (the process ended or closed it) or after
    `timeout` seconds (the process is killed then, so that the blocked read returns)."""
    import threading
    assert (needle is None) != (lines is None), "read_until: a needle or a line count"
    got, done = [], []
    stream = p.stderr if stderr else p.stdout

    def pump():
        while True:
            line = stream.readline()
            if not line:
                return
            got.append(line)
            if (needle is not None and needle in line) or (lines is not None and len(got) >= lines):
                done.append(True)
                return

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    t.join(timeout)
    what = repr(needle) if needle is not None else "%d lines" % lines
    if t.is_alive():
        p.kill()
        t.join(10)
        raise AssertionError("no %s on %s within %.0f s; read %d lines, ending %r"
                             % (what, "stderr" if stderr else "stdout", timeout, len(got), b"".join(got)[-300:]))
    if not done:
        raise AssertionError("%s ended (exit status %s) before %s; read %d lines, ending %r"
                             % ("stderr" if stderr else "stdout", p.poll(), what, len(got), b"".join(got)[-300:]))
    return b"".join(got)


def parse_ndjson(data):
    """Every line must be one JSON object; returns them."""
    text = data.decode("utf-8")
    assert text == "" or text.endswith("\n"), "stdout does not end with a newline"
    events = []
    for i, line in enumerate(text.splitlines(), 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise AssertionError("stdout line %d is not JSON (%s): %r" % (i, e, line[:200]))
        assert isinstance(ev, dict), "stdout line %d is not an object" % i
        assert "\n" not in line
        events.append(ev)
    return events


def assert_seq_complete(events, first=1):
    seqs = [e["seq"] for e in events if "seq" in e]
    assert seqs == list(range(first, first + len(seqs))), \
        "seq not contiguous from %d: first problem near %s" % (first, next(
            (i for i, s in enumerate(seqs) if s != first + i), None))


def execute(server_url, *args, task="e2e", timeout=120):
    return wsflow("execute", task, "--url", server_url, *args, timeout=timeout)


DEMO_TYPES = [
    "workflow_started", "dag_created", "step_started", "agent_message", "step_progress", "cost_update",
    "step_completed", "step_started", "agent_tool_call", "step_retry_started", "step_retry_backoff",
    "step_retry_succeeded", "step_progress", "step_completed", "step_started", "approval_requested",
    "approval_received", "step_completed", "step_started", "agent_message", "file_created", "cost_update",
    "step_completed", "step_started", "agent_message", "step_completed", "workflow_completed",
]


def node_ws_available():
    if not shutil.which("node"):
        return False
    prefix = os.environ.get("PEERBENCH_PREFIX", "/tmp/peerbench")
    return os.path.exists(os.path.join(prefix, "node_modules", "ws", "package.json"))


def wait_rss(p):
    """Waits for a started process whose pipes were read by the caller; returns (rc, max RSS in KiB)."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss
