#!/usr/bin/env python3
"""Runs one end-to-end test: run.py MODULE TEST. Exit 0 pass, 1 fail, 77 skip (CTest SKIP_RETURN_CODE)."""
import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsflow_e2e  # noqa: E402


def main():
    module, name = sys.argv[1], sys.argv[2]
    test = getattr(importlib.import_module(module), name)
    try:
        test()
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
