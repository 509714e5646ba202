"""The man page and the completions are generated from the command definitions and committed:
the committed copies must be exactly what the binary generates, and must work."""
import os
import re
import shlex
import shutil
import subprocess

from wsflow_e2e import BIN, Skip, wsflow

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FILES = {"man": "man/wsflow.1", "bash": "completions/wsflow.bash", "zsh": "completions/_wsflow",
         "fish": "completions/wsflow.fish"}


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def subcommands():
    text = wsflow("--help").out.decode()
    return re.findall(r"^  (\w+) {2,}", text.split("Subcommands:")[1], re.M)


def options_of(sub, flag="--help-all"):
    r = wsflow(sub, flag)
    assert r.rc == 0
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", r.out.decode())) - {"--help"}


def test_committed_docs_are_what_the_binary_generates():
    for kind, path in FILES.items():
        r = wsflow("__gen", kind)
        assert r.rc == 0, r
        assert r.out.decode() == read(path), \
            "%s is stale: run `cmake --build build --target gen-docs` and commit it" % path


def test_every_subcommand_and_option_is_documented_and_nothing_else():
    man = read(FILES["man"]).replace("\\-", "-")
    subs = subcommands()
    assert set(subs) == {"watch", "execute", "approve", "cancel", "pause", "resume", "runs", "status", "send", "replay", "serve",
                         "sessions", "config"}, subs
    known = {"--help", "--version"}
    for sub in subs:
        assert ".SS \"wsflow %s" % sub in read(FILES["man"]), sub
        for opt in options_of(sub):
            known.add(opt)
            assert opt in man, ("man page lacks", sub, opt)
            assert opt in read(FILES["bash"]) and opt in read(FILES["zsh"]), (sub, opt)
            assert "-l " + opt[2:] in read(FILES["fish"]), (sub, opt)
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", man))
    assert documented <= known, documented - known


def test_man_page_renders_without_warnings():
    if not shutil.which("groff"):
        raise Skip("groff is not installed")
    r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(ROOT, FILES["man"])], capture_output=True, timeout=30)
    assert r.returncode == 0 and r.stderr == b"", r.stderr


def test_completions_parse():
    checked = 0
    for shell, name in (("bash", "bash"), ("zsh", "zsh"), ("fish", "fish")):
        if shutil.which(shell):
            r = subprocess.run([shell, "-n", os.path.join(ROOT, FILES[name])], capture_output=True, timeout=30)
            assert r.returncode == 0, (shell, r.stderr)
            checked += 1
    assert checked >= 1


def bash_complete(words):
    if not os.path.exists("/usr/share/bash-completion/bash_completion"):
        raise Skip("bash-completion is not installed")
    script = ('source /usr/share/bash-completion/bash_completion; source %s; COMP_WORDS=(%s); COMP_CWORD=%d; '
              'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _wsflow; printf "%%s\\n" "${COMPREPLY[@]}"'
              % (os.path.join(ROOT, FILES["bash"]), " ".join("'%s'" % w for w in words), len(words) - 1))
    r = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().split()


def test_bash_completion_completes_commands_options_and_values():
    assert bash_complete(["wsflow", "wa"]) == ["watch"]
    assert bash_complete(["wsflow", "watch", "--dia"]) == ["--dialect"]
    assert bash_complete(["wsflow", "watch", "--retry-jitter", ""]) == ["full", "none"]
    assert "--drop-every" in bash_complete(["wsflow", "serve", "--d"])
    # short options are words of their own ("-q", not "-q,")
    assert bash_complete(["wsflow", "watch", "-"]).count("-q") == 1
    assert not [w for w in bash_complete(["wsflow", "watch", "-"]) if w.endswith(",")]
    # --resolution is open (the request lists its options) but the usual ones are offered
    assert bash_complete(["wsflow", "approve", "r-1", "a-1", "--resolution", "re"]) == ["retry", "reject"]


def test_fish_completion_completes_commands_options_and_values():
    if not shutil.which("fish"):
        raise Skip("fish is not installed")

    def complete(line):
        r = subprocess.run(["fish", "--no-config", "-c", "source %s; complete -C %s" % (os.path.join(ROOT, FILES["fish"]), shlex.quote(line))],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [l.split("\t")[0] for l in r.stdout.decode().splitlines()]

    assert complete("wsflow wa") == ["watch"]
    assert complete("wsflow watch --dia") == ["--dialect"]
    assert sorted(complete("wsflow watch --output ")) == ["auto", "json", "pretty"]
    assert sorted(complete("wsflow approve r-1 a-1 --resolution re")) == ["reject", "retry"]


def test_help_of_every_subcommand_fits_a_screen_and_shows_an_example():
    for args in [()] + [(sub,) for sub in subcommands()]:
        for flag in ("--help", "-h"):
            r = wsflow(*args, flag)
            lines = r.out.decode().splitlines()
            assert r.rc == 0 and r.err == b"", (args, r)
            assert len(lines) <= 24 and max(len(l) for l in lines) <= 80, (args, len(lines), r.out.decode())
            assert args == () or any(l.startswith("Example: ") and " wsflow " + args[0] in l for l in lines), args


def test_brief_help_is_a_part_of_help_all_and_says_how_to_get_the_rest():
    for sub in subcommands():
        brief, every = options_of(sub, "--help"), options_of(sub)
        assert brief <= every, (sub, brief - every)
        if brief != every - {"--help-all"}:
            assert ("wsflow %s --help-all" % sub) in wsflow(sub, "--help").out.decode(), sub
    # every line of --help-all fits 80 columns too
    for sub in subcommands():
        assert max(len(l) for l in wsflow(sub, "--help-all").out.decode().splitlines()) <= 80, sub


def test_readme_mentions_only_options_the_cli_has_and_claims_none_missing():
    known = {"--help", "--help-all", "--version"}
    for sub in subcommands():
        known |= options_of(sub)
    readme = read("README.md")
    ours = re.sub(r"cmake [^`\n]*", "", readme)  # cmake's own options (--build, --install, ...)
    mentioned = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", ours))
    assert mentioned - known == set(), "README mentions options the CLI does not have: %s" % (mentioned - known)
    for line in readme.splitlines():  # "Not in this version: ..." must not name what ships
        if "not in this version" in line.lower():
            shipped = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", line)) & known
            assert not shipped and "prox" not in line.lower(), line
