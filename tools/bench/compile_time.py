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


def flags(include):
    return ["-std=c++17", "-I", str(include)] + pkg_config_cflags("cpp-httplib", "nlohmann_json", "openssl")


def measure(cxx, include, runs, opts=("-O0", "-O2")):
    """{opt: {json_only, compiled, handwritten, header_only}}: seconds, the best of `runs`."""
    times = {}
    with tempfile.TemporaryDirectory(prefix="dhis2cpp-bench-") as tmp:
        obj = str(Path(tmp) / "out.o")
        for opt in opts:
            base = [cxx, opt, "-c", "-o", obj] + flags(include)
            times[opt] = {
                "json_only": best_time(base + [str(SOURCES / "json_only.cpp")], runs),
                "compiled": best_time(base + ["-DDHIS2CPP_COMPILED", str(SOURCES / "library_user.cpp")], runs),
                "handwritten": best_time(base + [str(SOURCES / "handwritten.cpp")], runs),
                "header_only": best_time(base + [str(SOURCES / "library_user.cpp")], runs),
            }
    return times


def project(cxx, include, files=10, opt="-O0"):
    """A project of `files` files that each use the client, plus a main, built one file after another
    (as `make -j1`) and linked: {"header_only": s, "compiled": s}, compiling and linking included."""
    libs = shlex.split(subprocess.run(["pkg-config", "--libs", "cpp-httplib", "openssl"], check=True,
                                      stdout=subprocess.PIPE, universal_newlines=True).stdout)
    result = {}
    with tempfile.TemporaryDirectory(prefix="dhis2cpp-project-") as tmp:
        tmp = Path(tmp)
        sources = []
        for i in range(files):
            path = tmp / f"part{i}.cpp"
            path.write_text("#include <dhis2/dhis2.hpp>\n"
                            f"std::string name{i}(dhis2::Client& client) {{\n"
                            f"  return client.get_raw(\"me\", {{{{\"fields\", \"name{i}\"}}}}).value(\"name\", std::string());\n"
                            "}\n")
            sources.append(path)
        main = tmp / "main.cpp"
        main.write_text("#include <dhis2/dhis2.hpp>\n#include <iostream>\n"
                        + "".join(f"std::string name{i}(dhis2::Client&);\n" for i in range(files))
                        + "int main() {\n  dhis2::Client client(\"http://127.0.0.1:8080\", dhis2::BasicAuth{\"admin\", \"district\"});\n"
                        + "".join(f"  std::cout << name{i}(client);\n" for i in range(files)) + "}\n")
        impl = tmp / "dhis2cpp.cpp"
        impl.write_text("#define DHIS2CPP_IMPLEMENTATION\n#include <dhis2/dhis2.hpp>\n")
        for mode in ("header_only", "compiled"):
            define = ["-DDHIS2CPP_COMPILED"] if mode == "compiled" else []
            units = sources + [main] + ([impl] if mode == "compiled" else [])
            start = time.perf_counter()
            objects = []
            for unit in units:
                obj = str(unit.with_suffix(f".{mode}.o"))
                subprocess.run([cxx, opt, "-c", "-o", obj, *define, *flags(include), str(unit)], check=True)
                objects.append(obj)
            subprocess.run([cxx, "-o", str(tmp / f"app.{mode}"), *objects, *libs, "-lpthread"], check=True)
            result[mode] = time.perf_counter() - start
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--single", action="store_true")
    args = parser.parse_args()

    include = ROOT / ("single_include" if args.single else "include")
    failures = []
    print("compiler: %s; headers: %s; best of %d" % (args.cxx, include.relative_to(ROOT), args.runs))
    print("%-5s %12s %12s %12s %12s   %-22s %-22s" % ("opt", "json_only", "compiled", "handwritten",
                                                      "header-only", "compiled/json_only", "header-only/handwritten"))
    for opt, t in measure(args.cxx, include, args.runs).items():
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
