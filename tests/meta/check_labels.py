#!/usr/bin/env python3
"""check_labels.py BUILD_DIR [CTEST]: every ctest entry of the build carries a LABELS property,
and every C test built from tests/unit/ is labelled unit (so `ctest -L unit` runs them all).
Lists the offenders and exits 1 if any; `ctest -L meta` runs it."""
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: check_labels.py BUILD_DIR [CTEST]", file=sys.stderr)
        return 2
    build = sys.argv[1]
    ctest = sys.argv[2] if len(sys.argv) == 3 else "ctest"
    out = subprocess.run([ctest, "--test-dir", build, "--show-only=json-v1"],
                         check=True, capture_output=True, text=True).stdout
    tests = json.loads(out)["tests"]
    unit_bin = os.path.realpath(os.path.join(build, "tests", "unit")) + os.sep
    bad = []
    for t in tests:
        labels = []
        for p in t.get("properties", []):
            if p["name"] == "LABELS":
                labels = p["value"]
        command = t.get("command") or [""]
        if not labels:
            bad.append(f"{t['name']}: no LABELS")
        elif os.path.realpath(command[0]).startswith(unit_bin) and "unit" not in labels:
            bad.append(f"{t['name']}: built from tests/unit/ but not labelled unit ({';'.join(labels)})")
    for line in bad:
        print(f"check_labels: {line}", file=sys.stderr)
    if not tests:
        print("check_labels: ctest lists no tests: wrong build directory?", file=sys.stderr)
        return 1
    print(f"check_labels: {len(tests)} tests, {len(bad)} without the labels they need")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
