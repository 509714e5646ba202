"""The man page and the completions name exactly the subcommands and options the binary has."""
import os
import re
import shutil
import subprocess

from wsflow_e2e import Skip, wsflow

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SUBCOMMANDS = ["execute", "watch", "serve"]


def options_of(sub):
    r = wsflow(sub, "--help")
    assert r.rc == 0
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", r.out.decode()))
    opts.discard("--help")
    return opts


def read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def test_man_page_and_completions_cover_every_option():
    man = read("man", "wsflow.1").replace("\\-", "-")
    comps = {name: read("completions", name) for name in ("wsflow.bash", "_wsflow", "wsflow.fish")}
    main_help = wsflow("--help").out.decode()
    listed = re.findall(r"^  (\w+) {2,}", main_help.split("Subcommands:")[1], re.M)
    assert sorted(listed) == sorted(SUBCOMMANDS), listed
    for sub in SUBCOMMANDS:
        assert re.search(r"\.B(I)? \"?%s" % sub, read("man", "wsflow.1")), sub
        for name, text in comps.items():
            assert sub in text, (name, sub)
        for opt in options_of(sub):
            assert opt in man, ("man page lacks", sub, opt)
            for name, text in comps.items():
                needle = opt if name != "wsflow.fish" else "-l " + opt[2:]
                assert needle in text, (name, "lacks", sub, opt)
    # nothing documented that the binary does not have
    known = set().union(*(options_of(s) for s in SUBCOMMANDS)) | {"--help", "--version"}
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", man))
    assert documented <= known, documented - known


def test_man_page_renders_without_warnings():
    if not shutil.which("groff"):
        raise Skip("groff is not installed")
    r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(ROOT, "man", "wsflow.1")],
                       capture_output=True, timeout=30)
    assert r.returncode == 0 and r.stderr == b"", r.stderr


def test_completions_parse():
    r = subprocess.run(["bash", "-n", os.path.join(ROOT, "completions", "wsflow.bash")], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for shell, name in (("zsh", "_wsflow"), ("fish", "wsflow.fish")):
        if shutil.which(shell):
            r = subprocess.run([shell, "-n", os.path.join(ROOT, "completions", name)], capture_output=True, timeout=30)
            assert r.returncode == 0, (shell, r.stderr)
