#!/usr/bin/env python3
"""Compiles examples/analytics_now.cpp with the README's own g++ line, then runs the program
against dhis2-emulator through tests/examples/run_example.py (python3's standard library only).

Usage: readme_one_liner.py ROOT WORKDIR [run_example.py options...]

The line is taken from the README as it stands, run by bash from ROOT; only its `-o analytics_now`
is pointed into WORKDIR.
"""

import os
import re
import subprocess
import sys


def main(argv):
    root, workdir, rest = argv[1], argv[2], argv[3:]
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    lines = [l for l in readme.splitlines() if l.startswith("g++ ") and "examples/analytics_now.cpp" in l]
    if len(lines) != 1:
        print("FAILED: expected one g++ line for examples/analytics_now.cpp in the README, found %d" % len(lines))
        return 1
    line = lines[0]
    if not re.search(r"-o analytics_now\b", line):
        print("FAILED: the README's line has no '-o analytics_now': " + line)
        return 1
    os.makedirs(workdir, exist_ok=True)
    program = os.path.join(workdir, "analytics_now")
    command = re.sub(r"-o analytics_now\b", "-o '%s'" % program, line)
    print("$ " + command, flush=True)
    built = subprocess.run(["bash", "-c", command], cwd=root)
    if built.returncode != 0:
        print("FAILED: the README's g++ line failed (exit %d)" % built.returncode)
        return 1
    runner = os.path.join(root, "tests", "examples", "run_example.py")
    return subprocess.run([sys.executable, runner, program] + rest).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
