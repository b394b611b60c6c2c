#!/usr/bin/env python3
"""Compile-time benchmark: what including dhis2-cpp costs a user's translation unit.

Compiles, with the same compiler and flags, the files in tools/bench/compile/:
  library_user.cpp   one request through dhis2::Client (header-only, and with -DDHIS2CPP_COMPILED)
  handwritten.cpp    the same request by hand on <httplib.h> and <nlohmann/json.hpp>
  json_only.cpp      the same JSON work with <nlohmann/json.hpp> alone
at -O0 and -O2, each the best of --runs runs (only compiling: -c, no link), and prints the ratios
against the targets of issue 9:
  compiled mode  <= 1.3 x json_only
  header-only    <= 1.3 x handwritten

Usage: python3 tools/bench/compile_time.py [--cxx g++] [--runs 3] [--check] [--single]
  --single  measure the single header (single_include/) instead of include/
  --check   exit 1 when a target is missed
Run it on an idle machine: other work on the cores changes the numbers.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "tools" / "bench" / "compile"
TARGET = 1.3


def pkg_config_cflags(*packages):
    out = subprocess.run(["pkg-config", "--cflags", *packages], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return shlex.split(out)


def best_time(command, runs):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit("compile_time: failed: %s\n%s" % (" ".join(command), proc.stderr))
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--single", action="store_true")
    args = parser.parse_args()

    include = ROOT / ("single_include" if args.single else "include")
    deps = pkg_config_cflags("cpp-httplib", "nlohmann_json", "openssl")
    failures = []
    with tempfile.TemporaryDirectory(prefix="dhis2cpp-bench-") as tmp:
        obj = str(Path(tmp) / "out.o")
        print("compiler: %s; headers: %s; best of %d" % (args.cxx, include.relative_to(ROOT), args.runs))
        print("%-5s %12s %12s %12s %12s   %-22s %-22s" % ("opt", "json_only", "compiled", "handwritten",
                                                          "header-only", "compiled/json_only", "header-only/handwritten"))
        for opt in ("-O0", "-O2"):
            base = [args.cxx, "-std=c++17", opt, "-c", "-o", obj, "-I", str(include)] + deps
            t = {
                "json_only": best_time(base + [str(SOURCES / "json_only.cpp")], args.runs),
                "compiled": best_time(base + ["-DDHIS2CPP_COMPILED", str(SOURCES / "library_user.cpp")], args.runs),
                "handwritten": best_time(base + [str(SOURCES / "handwritten.cpp")], args.runs),
                "header_only": best_time(base + [str(SOURCES / "library_user.cpp")], args.runs),
            }
            compiled_ratio = t["compiled"] / t["json_only"]
            header_ratio = t["header_only"] / t["handwritten"]
            marks = []
            for name, ratio in (("compiled", compiled_ratio), ("header-only", header_ratio)):
                ok = ratio <= TARGET
                marks.append("%.2fx %s" % (ratio, "ok" if ok else "MISSED (target %.1fx)" % TARGET))
                if not ok:
                    failures.append("%s %s: %.2fx" % (opt, name, ratio))
            print("%-5s %11.2fs %11.2fs %11.2fs %11.2fs   %-22s %-22s" % (opt, t["json_only"], t["compiled"],
                                                                         t["handwritten"], t["header_only"], *marks))
    if failures:
        print("targets missed: " + "; ".join(failures))
        return 1 if args.check else 0
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
