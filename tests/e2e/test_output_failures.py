"""Issue 16: output that cannot be written is exit 8, never success; paths that cannot be created
are exit 2 before connecting; a finished run watched from its end ends at once."""
import json
import os
import resource
import signal
import subprocess

from wsflow_e2e import BIN, Server, isolated_env, tmpdir, wsflow


def run_with_file_limit(args, limit):
    """The real binary with RLIMIT_FSIZE = limit bytes (files beyond it fail with EFBIG; stdout is a pipe)."""
    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([BIN] + args, capture_output=True, timeout=60, env=isolated_env(), preexec_fn=limit_files)


def test_stdout_on_a_full_disk_is_exit_8_with_the_count_of_whole_lines():
    with Server() as s, open("/dev/full", "w") as full:
        p = subprocess.run([BIN, "execute", "t", "--url", s.url, "--config", '{"scenario":"long","events":50}'],
                           stdout=full, stderr=subprocess.PIPE, timeout=60, env=isolated_env())
        assert p.returncode == 8, p
        assert b"cannot write to stdout: No space left on device (0 lines written whole)" in p.stderr, p.stderr


def test_summary_on_a_full_disk_is_exit_8():
    with Server() as s:
        r = wsflow("execute", "t", "--url", s.url, "--config", '{"scenario":"long","events":5}', "--summary", "/dev/full")
        assert r.rc == 8 and len(r.events) == 9, r
        assert r.err.decode().strip().endswith("cannot write --summary /dev/full: No space left on device"), r


def test_a_recording_that_runs_out_of_room_is_exit_8():
    with Server() as s:
        rec = os.path.join(tmpdir(), "run.rec")
        p = run_with_file_limit(["execute", "t", "--url", s.url, "--config", '{"scenario":"long","events":200}',
                                 "--record", rec], 8192)
        assert p.returncode == 8, p
        err = p.stderr.decode()
        assert "cannot write --record %s: File too large (" % rec in err and "lines written whole)" in err, err
        assert len(p.stdout.splitlines()) == 204  # stdout itself got every event


def test_paths_that_cannot_be_created_are_exit_2_before_connecting():
    # port 9 (discard) has no server: getting exit 2 at once shows no connection was tried first
    for args, msg in ((["--summary", "/nonexistent/dir/s.json"], "--summary /nonexistent/dir/s.json: No such file"),
                      (["--summary", "/tmp"], "--summary /tmp: is a directory"),
                      (["--record", "/nonexistent/dir/r.rec"], "cannot write recording /nonexistent/dir/r.rec")):
        r = wsflow("watch", "r-1", "--url", "ws://127.0.0.1:9", *args, timeout=10)
        assert r.rc == 2 and r.out == b"" and msg in r.err.decode() and len(r.err.splitlines()) == 1, (args, r)
        assert not os.path.exists("/nonexistent/dir")
    r = wsflow("watch", "a", "b", "--url", "ws://127.0.0.1:9", "--summary", "/nonexistent/dir/s.json", timeout=10)
    assert r.rc == 2 and b"--summary /nonexistent/dir/s.json" in r.err, r


def test_watching_a_finished_run_from_its_end_ends_at_once_with_its_outcome():
    with Server() as s:
        done = wsflow("execute", "t", "--url", s.url, "-q", "--config", '{"scenario":"long","events":5}')
        failed = wsflow("execute", "t", "--url", s.url, "-q", "--config", '{"scenario":"fail","delay_ms":1}')
        rid, fid = done.events[-1]["run_id"], failed.events[-1]["run_id"]
        last = done.events[-1]["seq"]
        for extra in (["--since-seq", str(last)], ["--no-history"], ["--tail", "0"]):
            r = wsflow("watch", rid, "--url", s.url, *extra, timeout=10)
            assert r.rc == 0 and r.out == b"", (extra, r)
            f = wsflow("watch", fid, "--url", s.url, *extra, timeout=10)
            assert f.rc == 1 and f.out == b"", (extra, f)
        # a timeout names no seq that was not printed
        r = wsflow("watch", rid, "--url", s.url, "--since-seq", str(last), "--follow", "--timeout", "300ms", timeout=10)
        assert r.rc == 124 and "no event printed after seq %d" % last in r.err.decode(), r
