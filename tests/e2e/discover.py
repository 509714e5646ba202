#!/usr/bin/env python3
"""Finds the end-to-end tests, so that CMake registers every one (tests/CMakeLists.txt).

  discover.py DIR                   one line per test: MODULE NAME, in file and definition order; a
                                    module that does not import gives one line: MODULE -
  discover.py --check DIR LISTFILE  exit 1, saying why, unless LISTFILE (what CMake registered at
                                    configure time) is what discovery finds now, and every function
                                    whose source says `def test_...` (async, decorated, nested or in
                                    a class, defined twice) is among them once.

A test is what run.py can run: a module-level callable named test_* in test_*.py (a plain or async
function, or whatever a decorator returned). Discovery imports each module, as run.py does, so a
decorator or a generated test is seen as Python sees it, not as a regular expression reads the text.
"""
import ast
import importlib
import os
import sys


def modules(d):
    return sorted(f[:-3] for f in os.listdir(d) if f.startswith("test_") and f.endswith(".py"))


def discover(d):
    """[(module, name or None when the module does not import)]"""
    sys.path.insert(0, d)
    found = []
    for m in modules(d):
        try:
            mod = importlib.import_module(m)
        except Exception as e:  # noqa: BLE001 - reported as a failing test, not a crash of CMake
            print("discover.py: %s does not import: %s: %s" % (m, type(e).__name__, e), file=sys.stderr)
            found.append((m, None))
            continue
        names = [n for n, v in vars(mod).items() if n.startswith("test_") and callable(v)
                 and not isinstance(v, type)]
        found += [(m, n) for n in names]
    return found


def defs_in_source(path):
    """Every `def test_*` / `async def test_*` in the file, at any depth: (name, line, top level?)."""
    tree = ast.parse(open(path).read(), path)
    top = {id(n) for n in tree.body}
    return [(n.name, n.lineno, id(n) in top) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")]


def check(d, listfile):
    registered = [tuple(line.split()) for line in open(listfile) if line.strip()]
    now = [(m, n or "-") for m, n in discover(d)]
    problems = []
    if registered != now:
        gone = [x for x in registered if x not in now]
        new = [x for x in now if x not in registered]
        problems.append("registered at configure time but not found now: %s; found now but not registered: %s "
                        "(re-run cmake)" % (gone or "none", new or "none"))
    for m in modules(d):
        if (m, "-") in now:
            problems.append("%s does not import: none of its tests can run" % m)
            continue
        names = {n for mm, n in registered if mm == m}
        seen = {}
        for name, line, top in defs_in_source(os.path.join(d, m + ".py")):
            where = "%s.py:%d %s" % (m, line, name)
            if not top:
                problems.append("%s is not at module level: run.py cannot run it" % where)
            elif name in seen:
                problems.append("%s is defined again (line %d): the first one never runs" % (where, seen[name]))
            elif name not in names:
                problems.append("%s is not registered" % where)
            seen.setdefault(name, line)
        count = sum(1 for mm, _ in registered if mm == m)
        print("%s: %d tests registered, %d `def test_` in its source" % (m, count, len(seen)))
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"] and len(sys.argv) == 4:
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 2:
        for m, n in discover(sys.argv[1]):
            print(m, n or "-")
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
