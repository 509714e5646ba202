#!/usr/bin/env python3
"""Runs one end-to-end test: run.py MODULE TEST. Exit 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE).
The test may be a plain or an async function (async ones run in a fresh event loop).
run.py MODULE alone only imports the module: CMake registers that when discovery cannot import it."""
import asyncio
import importlib
import inspect
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsflow_e2e  # noqa: E402


def main():
    module, name = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
    try:
        mod = importlib.import_module(module)
        if name is None:
            print("PASS: %s imports" % module)
            return 0
        test = getattr(mod, name)
        result = test()
        if inspect.isawaitable(result):
            asyncio.run(result)
    except wsflow_e2e.Skip as e:
        print("SKIP: %s" % e)
        return 77
    except Exception:  # noqa: BLE001 - any failure is the test's failure
        traceback.print_exc()
        return 1
    finally:
        wsflow_e2e.cleanup()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
