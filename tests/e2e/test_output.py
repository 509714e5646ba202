"""Issue 8: output for people. In a terminal, pretty lines with colours (none with NO_COLOR or
TERM=dumb); piped, pure NDJSON, unchanged; a live status line on stderr when only stderr is a
terminal. Terminals are pseudo-terminals made with Python's pty module."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time

from wsflow_e2e import BIN, DEMO_TYPES, Server, _procs, execute, isolated_env, parse_ndjson, wsflow

FAST = '{"delay_ms":1}'
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def in_pty(args, env=None, stdout_tty=True, stderr_tty=False, cols=200, timeout=60, interact=None, ctty=False,
           stdin=subprocess.DEVNULL, modes=None):
    """Runs wsflow with stdout and/or stderr on a pseudo-terminal of `cols` columns.
    `interact(term, proc, master)` is called with what the terminal showed so far after each read
    (to type or signal); `ctty`: the terminal is wsflow's controlling terminal (/dev/tty), as in a
    shell; `modes`: a list that gets the terminal's local modes (lflag) as wsflow left them.
    Returns (rc, terminal bytes, stdout bytes when piped, stderr bytes when piped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    full_env = isolated_env()
    full_env.update({"TERM": "xterm-256color", "NO_COLOR": ""})
    full_env.update(env or {})

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([BIN] + [str(a) for a in args], stdin=stdin,
                         stdout=slave if stdout_tty else subprocess.PIPE,
                         stderr=slave if stderr_tty else subprocess.PIPE, env=full_env,
                         preexec_fn=controlling_terminal if ctty else None, pass_fds=(slave,) if ctty else ())
    _procs.append(p)
    os.close(slave)
    piped = {}

    def drain(name, stream):
        piped[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", p.stdout), ("err", p.stderr)) if s is not None]
    for t in threads:
        t.start()
    term = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has gone
                break
            if not chunk:
                break
            term += chunk
            if interact:
                interact(term, p, master)
        elif p.poll() is not None:
            break
    else:
        p.kill()
        raise AssertionError("wsflow %s did not end within %d s; terminal: %r" % (args, timeout, term[-2000:]))
    if modes is not None:
        modes.append(termios.tcgetattr(master)[3])
    os.close(master)
    rc = p.wait(timeout=30)
    for t in threads:
        t.join(30)
    return rc, term, piped.get("out", b""), piped.get("err", b"")


def screen(text):
    """What a terminal shows in the end: on each line, what the last carriage return left."""
    return [line.split("\r")[-1].replace("\x1b[K", "") for line in text.replace("\r\n", "\n").split("\n")]


def test_pretty_in_a_terminal_has_colours_progress_and_a_summary():
    with Server() as s:
        rc, term, _, err = in_pty(["execute", "pretty", "--url", s.url, "--auto-approve", "--config", FAST])
        assert rc == 0, (rc, err, term[-2000:])
        assert SGR.search(term), term[:500]
        text = SGR.sub(b"", term).decode()
        assert "step_started" in text and "step 1: Plan the work (planner)" in text, text
        assert "[approve | reject | modify]" in text
        assert "total $0.046" in text
        assert "\r\x1b[K" in text  # the step_progress bar, redrawn in place
        assert "5 steps: 5 completed" in text and "cost $0.046" in text  # the summary
        assert not any(line.startswith("{") for line in text.splitlines()), "JSON in pretty output"
        assert b"\x1b[1;32mworkflow_completed" in term


def test_no_color_and_dumb_terminals_get_no_colours():
    with Server() as s:
        rc, term, _, err = in_pty(["execute", "plain", "--url", s.url, "--auto-approve", "--config", FAST],
                                  env={"NO_COLOR": "1"})
        assert rc == 0, err
        assert b"workflow_completed" in term and b"5 steps: 5 completed" in term
        assert not SGR.search(term), term[:500]
        # TERM=dumb: no colours, and no bar redrawn with escape sequences either
        rc, term, _, err = in_pty(["execute", "dumb", "--url", s.url, "--auto-approve", "--config", FAST],
                                  env={"TERM": "dumb"})
        assert rc == 0, err
        assert b"workflow_completed" in term and b"\x1b" not in term, term[:500]
        # --no-color on a terminal; --color always wins over NO_COLOR
        rc, term, _, _ = in_pty(["execute", "nc", "--url", s.url, "--auto-approve", "--config", FAST, "--no-color"])
        assert rc == 0 and not SGR.search(term)
        rc, term, _, _ = in_pty(["execute", "ca", "--url", s.url, "--auto-approve", "--config", FAST,
                                 "--color", "always"], env={"NO_COLOR": "1"})
        assert rc == 0 and SGR.search(term)


def test_piped_output_is_pure_ndjson_and_unchanged():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        assert first.rc == 0, first
        assert [e["event_type"] for e in first.events] == DEMO_TYPES  # every line parses
        assert b"\x1b" not in first.out
        run_id = first.events[0]["run_id"]
        auto = wsflow("watch", run_id, "--url", s.url)
        as_json = wsflow("watch", run_id, "--url", s.url, "--output", "json", "--color", "always")
        assert auto.rc == 0 and as_json.rc == 0
        assert auto.out == first.out and as_json.out == first.out


def test_pretty_piped_has_no_colours_unless_asked():
    with Server() as s:
        first = execute(s.url, "--auto-approve", "--config", FAST)
        run_id = first.events[0]["run_id"]
        pretty = wsflow("watch", run_id, "--url", s.url, "--output", "pretty")
        assert pretty.rc == 0, pretty
        lines = pretty.out.decode().splitlines()
        assert b"\x1b" not in pretty.out and b"\r" not in pretty.out
        assert len(lines) == len(DEMO_TYPES) + 1 + 5  # an event a line, then the summary and a line per step
        assert lines[0].split()[1:3] == [run_id, "workflow_started"]
        assert "step 1 [##########----------]  50% plan drafted" in pretty.out.decode()
        assert lines[-6].startswith("run %s completed in " % run_id)
        coloured = wsflow("watch", run_id, "--url", s.url, "--output", "pretty", "--color", "always")
        assert coloured.rc == 0 and SGR.search(coloured.out)
        # the same from the environment; a flag still wins
        env = wsflow("watch", run_id, "--url", s.url, env={"WSFLOW_OUTPUT": "pretty", "WSFLOW_COLOR": "always"})
        assert env.rc == 0 and SGR.search(env.out)
        flag = wsflow("watch", run_id, "--url", s.url, "--output", "json", env={"WSFLOW_OUTPUT": "pretty"})
        assert flag.out == first.out
        # --no-color and --color exclude each other
        both = wsflow("watch", run_id, "--url", s.url, "--no-color", "--color", "always")
        assert both.rc == 2, both


def test_live_status_line_on_stderr_when_stdout_is_piped():
    with Server() as s:
        rc, term, out, _ = in_pty(["execute", "status", "--url", s.url, "--auto-approve", "--config",
                                   '{"delay_ms":20}'], stdout_tty=False, stderr_tty=True)
        assert rc == 0, term
        assert [e["event_type"] for e in parse_ndjson(out)] == DEMO_TYPES
        text = term.decode()
        assert "\r\x1b[K" in text, text
        assert re.search(r"wsflow: r-[0-9a-f]+ running \| step \d/5 ", text), text
        assert "$0.012" in text
        assert "waiting for approval" in text
        # every other stderr line still arrives whole, and the status is gone at the end
        lines = screen(text)
        assert any(re.match(r"wsflow: run r-[0-9a-f]+ completed: 27 events printed", l) for l in lines), lines
        assert lines[-1].endswith("0 reconnects") or lines[-1] == "", lines  # the status was erased
        assert not any(" | " in l for l in lines), lines
        # --progress never, or -q: none
        for extra in (["--progress", "never"], ["-q"]):
            rc, term, out, _ = in_pty(["execute", "quiet", "--url", s.url, "--auto-approve", "--config", FAST] + extra,
                                      stdout_tty=False, stderr_tty=True)
            assert rc == 0 and b"\x1b[K" not in term, (extra, term)


def emulate(term, rows=40):
    """The lines a terminal holds in the end (scrolled-off ones kept), for what wsflow draws:
    text, \\r, \\n, ESC[nA (up), ESC[J (erase below), ESC[K (erase right); colours dropped."""
    text = SGR.sub(b"", term).decode()
    lines, row, col = [""], 0, 0
    i = 0
    while i < len(text):
        mode = re.match(r"\x1b\[\?\d+[hl]", text[i:])  # autowrap off/on around the board
        if mode:
            i += len(mode.group(0))
            continue
        m = re.match(r"\x1b\[(\d*)([AJK])", text[i:])
        if m:
            n = int(m.group(1) or 1)
            if m.group(2) == "A":
                row = max(row - n, len(lines) - rows, 0)
            elif m.group(2) == "J":
                lines[row] = lines[row][:col]
                del lines[row + 1:]
            else:
                lines[row] = lines[row][:col]
            i += len(m.group(0))
            continue
        c = text[i]
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
        else:
            lines[row] = lines[row][:col] + c + lines[row][col + 1:]
            col += 1
        i += 1
    return [line for line in lines if line != ""]


def test_several_runs_in_a_terminal_get_a_live_board_and_a_final_line_each():
    with Server() as s:
        def detach(config):
            r = wsflow("execute", "t", "--url", s.url, "--detach", "-q", "--config", config)
            assert r.rc == 0, r
            return r.events[0]["run_id"]

        a = detach('{"scenario":"long","events":40,"delay_ms":25}')
        b = detach('{"scenario":"fail","delay_ms":40}')
        c = detach('{"delay_ms":20}')
        rc, term, _, _ = in_pty(["watch", a, b, c, "--url", s.url, "--auto-approve"], stderr_tty=True, cols=120)
        assert rc == 1, (rc, term[-3000:])  # b failed: the first run, in order, that did not complete
        text = SGR.sub(b"", term).decode()
        assert re.search(r"%s running \| step 1/1 stream events \| \d+%%" % a, text), text[-3000:]  # the board
        assert "\x1b[A\x1b[K" in text  # the board's lines erased, to be drawn again
        shown = emulate(term)
        finals = [line for line in shown if line.startswith(("r-", "wsflow: 3 runs"))]
        assert len(finals) == 4, shown
        assert any(line.startswith(a + " completed | 1/1 steps done | 44 events") for line in finals), finals
        assert any(line.startswith(b + " failed: step s1 failed after 2 attempts") for line in finals), finals
        assert any(line.startswith(c + " completed | 5/5 steps done | $0.046") for line in finals), finals
        assert finals[-1] == "wsflow: 3 runs: 2 completed, 1 failed", finals
        assert not any(" running | " in line or "waiting" in line for line in shown), shown  # erased at the end
        assert not any("step_progress" in line for line in shown)  # the board showed the progress
        # stderr shares the terminal: its lines go above the board, whole.
        assert any(line.startswith("wsflow: answering approval approval-s3") for line in shown), shown
        assert "workflow_failed" in text and "wsflow: run %s failed" % b not in text  # said once, on the board


def test_ctrl_c_under_a_progress_bar_says_so_on_a_line_of_its_own():
    # Issue 17: "wsflow: interrupted" was written onto the end of the open progress bar.
    sent = []

    def interrupt(term, proc, master):
        if not sent and term.count(b"event 3 of") and term.endswith(b"of 100000"):
            proc.send_signal(signal.SIGINT)
            sent.append(True)

    with Server() as s:
        rc, term, _, _ = in_pty(["execute", "bar", "--url", s.url, "--config",
                                 '{"scenario":"long","events":100000,"delay_ms":20}'],
                                stderr_tty=True, interact=interrupt)
        assert sent, term[-500:]
        assert rc == 130, (rc, term[-500:])
        lines = screen(SGR.sub(b"", term).decode())
        said = [l for l in lines if "wsflow: interrupted" in l]
        assert said and all(l.startswith("wsflow: interrupted") for l in said), lines[-8:]
        assert any("event" in l and "of 100000" in l for l in lines), lines[-8:]  # the bar stays above it
        assert "" not in lines[lines.index(said[0]) - 1:lines.index(said[0])], lines[-8:]  # no empty line


def test_the_approval_prompt_owns_its_line_while_events_arrive():
    # Issue 17: an approval_requested line was printed after "answer [approve]: " and wrapped into
    # it. Here one run waits for an approval while another streams: its lines go above the prompt,
    # which is drawn again with what was typed so far. The prompt reads the terminal (/dev/tty), so
    # stdin carries the run ids (--runs-from -).
    with Server() as s:
        gate = execute(s.url, "--detach", "--config", '{"delay_ms":5}', task="gate")
        busy = execute(s.url, "--detach", "--config", '{"scenario":"long","events":80,"delay_ms":100}', task="busy")
        assert gate.rc == 0 and busy.rc == 0, (gate, busy)
        ids = [gate.events[0]["run_id"], busy.events[0]["run_id"]]
        prompt = b"answer [approve]: "
        typed = []

        def answer(term, proc, master):
            if prompt not in term:
                return
            since = term[term.index(prompt):]
            if not typed and since.count(b" of 80") >= 2:
                os.write(master, b"app")  # half an answer, then more events
                typed.append(len(term))
            elif len(typed) == 1 and term[typed[0]:].count(b" of 80") >= 2:
                os.write(master, b"rove\r")
                typed.append(len(term))
            elif len(typed) == 2 and b"feedback (optional): " in term[typed[1]:]:
                os.write(master, b"looks good\r")
                typed.append(len(term))

        r, w = os.pipe()
        os.write(w, ("\n".join(ids) + "\n").encode())
        os.close(w)
        # --progress never: no board, so that step_progress events print lines (the board test
        # covers the board)
        rc, term, _, _ = in_pty(["watch", "--runs-from", "-", "--url", s.url, "--progress", "never"], stderr_tty=True,
                                ctty=True, stdin=r, interact=answer)
        os.close(r)
        text = SGR.sub(b"", term).decode()
        assert len(typed) == 3, text[-3000:]
        assert rc == 0, (rc, text[-3000:])
        for line in screen(text):
            if "answer [approve]:" in line:
                rest = line.split("answer [approve]: ", 1)[1]
                assert "approve".startswith(rest), line  # only what was typed: no event inside it
        assert text.count("answer [approve]: ") > 3, text  # drawn again under the events meanwhile
        assert "  answer [approve]: app\r" in text.replace("\x1b[K", "")  # what was typed so far, redrawn
        # the answer typed on the terminal was sent
        after = wsflow("watch", ids[0], "--url", s.url)
        got = [e["data"] for e in after.events if e["event_type"] == "approval_received"]
        assert got and got[0]["resolution"] == "approve" and got[0]["feedback"] == "looks good", got


def test_a_prompt_answered_elsewhere_goes_away_and_the_run_goes_on():
    # An operator answers with `wsflow approve` from another terminal while the prompt is up: the
    # request's approval_received takes the prompt off the screen (saying so), and the run goes on
    # to its end without asking again. It stayed up, waiting for a key, until the run ended.
    approver = []

    def answer_elsewhere(term, proc, master):
        m = re.search(rb"wsflow: approval (\S+) ", term)
        if m and b"answer [approve]: " in term and not approver:
            approver.append(subprocess.Popen(
                [BIN, "approve", "r-elsewhere", m.group(1).decode(), "--resolution", "approve", "--url", url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=isolated_env()))

    with Server() as s:
        url = s.url
        # 150 ms between events: the run goes on for 1.5 s after the answer, and the prompt looks
        # every 100 ms
        rc, term, out, _ = in_pty(["execute", "x", "--url", s.url, "--config", '{"delay_ms":150}', "--run-id",
                                   "r-elsewhere"],
                                  stdout_tty=False, stderr_tty=True, ctty=True, interact=answer_elsewhere)
        text = SGR.sub(b"", term).decode()
        assert approver, text[-1500:]
        a_out, a_err = approver[0].communicate(timeout=60)
        assert approver[0].returncode == 0, (a_out, a_err)
        assert rc == 0, (rc, text[-1500:])
        assert "answer [approve]: (answered elsewhere)" in text, text[-1500:]
        events = parse_ndjson(out)
        assert events[-1]["event_type"] == "workflow_completed", events[-3:]
        got = [e["data"] for e in events if e["event_type"] == "approval_received"]
        assert len(got) == 1 and got[0]["resolution"] == "approve", got


def test_ctrl_c_at_the_prompt_leaves_the_terminal_as_it_was():
    # The prompt reads the terminal key by key, its echo off: those modes must not outlive it.
    modes = []

    def interrupt(term, proc, master):
        if b"answer [approve]: " in term and not modes:
            modes.append(termios.tcgetattr(master)[3])  # lflag while the prompt is up
            proc.send_signal(signal.SIGINT)

    with Server() as s:
        left = []
        rc, term, out, _ = in_pty(["execute", "x", "--url", s.url, "--config", FAST], stdout_tty=False,
                                  stderr_tty=True, ctty=True, interact=interrupt, modes=left)
        text = SGR.sub(b"", term).decode()
        assert rc == 130 and modes, (rc, text[-1500:])
        assert not modes[0] & (termios.ICANON | termios.ECHO), modes  # key by key while it was up
        assert left[0] & termios.ICANON and left[0] & termios.ECHO, left  # as it was
        shown = [l for l in screen(text) if l.strip()]
        assert "answer [" not in shown[-1], shown[-3:]  # the prompt nobody answered is gone
        assert any(l.startswith("wsflow: interrupted") for l in screen(text)), text[-1500:]
