#!/usr/bin/env python3
"""dhis2-cpp's benchmarks, side by side with the alternatives users have, in one run.

  python3 tools/bench/run.py            # builds build/bench (-O2), measures, rewrites docs/benchmarks.md
  python3 tools/bench/run.py --tiny     # each program once at a tiny size (CI); writes nothing

Each client runs in its own process against bench-server (the emulator in another process), so
that its CPU is its own: dhis2-cpp's TaskWatcher ("ours"), the floor (cpp-httplib + nlohmann_json
by hand), the Python peer (httpx, the dhis2w tasks module's algorithm) and a curl + jq loop. The
machine is noisy: every figure is the median of --repeats runs, the clients interleaved, and the
ratios compare medians of the same run.

docs/benchmarks.md keeps its prose; this script rewrites only the blocks between
<!-- bench:NAME --> and <!-- /bench:NAME --> markers (the machine, and one table per figure).
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import resource
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "tools" / "bench" / "peers"
DOC = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img"
COMMAND = "python3 tools/bench/run.py"


def build(build_dir):
    """Configures and builds the benchmark programs at -O2 (header-only, like a user's tool)."""
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DDHIS2CPP_BUILD_TESTS=OFF", "-DDHIS2CPP_BUILD_EXAMPLES=ON", "-DDHIS2CPP_BUILD_TOOLS=ON",
                    "-DDHIS2CPP_WERROR=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "bench-server", "bench-poll", "bench-wait",
                    "bench-manager"],
                   check=True)
    return build_dir / "tools" / "bench"


class Server:
    """bench-server in its own process; stop() returns its request counts."""

    def __init__(self, bin_dir, version, rows, feed, compress=False):
        self.proc = subprocess.Popen([str(bin_dir / "bench-server"), "--version", version, "--rows", str(rows),
                                      "--feed", feed] + (["--compress"] if compress else []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench-server did not start (exit {self.proc.wait()})")
        self.info = json.loads(line)

    def args(self):
        return [self.info["url"], self.info["job_type"], self.info["uid"]]

    def stop(self):
        self.proc.stdin.close()
        stats = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return stats


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_client(kind, bin_dir, server, polls):
    """One client run: a dict with cpu_per_poll_us and the rest of its report."""
    if kind in ("ours", "ours-identity", "floor", "floor-gzip"):
        out = subprocess.run([str(bin_dir / "bench-poll"), kind, *server.args(), str(polls)], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        return json.loads(out)
    if kind == "python":
        proc = subprocess.run([python_with_httpx(), str(PEERS / "poll_httpx.py"), *server.args(), str(polls), "0.001"],
                              stdout=subprocess.PIPE, universal_newlines=True)
        if proc.returncode == 77:
            return None
        proc.check_returncode()
        return json.loads(proc.stdout)
    if kind == "curl":
        before = children_cpu()
        subprocess.run(["bash", str(PEERS / "poll_curl.sh"), *server.args(), str(polls), "0"], check=True)
        cpu = children_cpu() - before
        return {"mode": "curl", "polls": polls, "requests": polls, "cpu_s": cpu, "cpu_per_poll_us": cpu * 1e6 / polls}
    raise ValueError(kind)


def python_with_httpx():
    """An interpreter that has httpx: this one, or Debian's (a pyenv python3 may lack python3-httpx)."""
    for python in (sys.executable, "/usr/bin/python3"):
        if Path(python).exists() and subprocess.run([python, "-c", "import httpx"],
                                                    stderr=subprocess.DEVNULL).returncode == 0:
            return python
    return None


def available(kind):
    if kind == "python":
        return python_with_httpx() is not None
    if kind == "curl":
        return shutil.which("curl") is not None and shutil.which("jq") is not None
    return True


def measure(bin_dir, version, rows, feed, kinds, polls, repeats, curl_polls, compress=False):
    """Interleaved runs of each client against one server; returns {kind: [reports]}."""
    server = Server(bin_dir, version, rows, feed, compress)
    results = {k: [] for k in kinds}
    try:
        for _ in range(repeats):
            for kind in kinds:
                report = run_client(kind, bin_dir, server, curl_polls if kind == "curl" else polls)
                if report is not None:
                    results[kind].append(report)
    finally:
        stats = server.stop()
    return results, stats


def median(reports, key="cpu_per_poll_us"):
    return statistics.median(r[key] for r in reports) if reports else None


def fmt_us(value):
    if value is None:
        return "n/a"
    return f"{value / 1000:.3f} ms" if value >= 1000 else f"{value:.0f} µs"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cxx = subprocess.run(["c++", "--version"], stdout=subprocess.PIPE, universal_newlines=True).stdout.splitlines()
    return (f"{model}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
            f"{cxx[0] if cxx else 'c++'}; Python {platform.python_version()}; "
            f"{datetime.date.today().isoformat()}")


def figure_poll_cost(bin_dir, args, kinds):
    """Figure 1: CPU per poll of a 200-row feed, no new row and a new row at every poll."""
    lines = [f"| feed ({args.rows} rows, DHIS2 2.42.1) | dhis2-cpp | floor | Python peer | curl + jq | dhis2-cpp / floor | "
             "Python / dhis2-cpp | target |",
             "|---|---|---|---|---|---|---|---|"]
    for feed, target in (("still", "≤ 0.3x the floor, ≥ 10x less than Python"), ("loop", "≤ 1.1x the floor")):
        results, stats = measure(bin_dir, "2.42.1", args.rows, feed, kinds, args.polls, args.repeats, args.curl_polls)
        m = {k: median(v) for k, v in results.items()}
        label = "no new row" if feed == "still" else "a new row every poll"
        lines.append(f"| {label} | {fmt_us(m.get('ours'))} | {fmt_us(m.get('floor'))} | {fmt_us(m.get('python'))} | "
                     f"{fmt_us(m.get('curl'))} | {ratio(m.get('ours'), m.get('floor'))} | "
                     f"{ratio(m.get('python'), m.get('ours'))} | {target} |")
        ours = results.get("ours") or []
        if ours:
            extra = median(ours, "requests") / max(1, median(ours, "polls"))
            lines.append(f"|   (dhis2-cpp sent {extra:.2f} requests per feed poll; server: "
                         f"{stats['connections']} connections for {stats['requests']} requests in all) "
                         f"| | | | | | | |")
    return lines


def figure_content_keys(bin_dir, args):
    """Figure 1, on DHIS2 2.40.0: every row's id is the job's id, so rows are known by content."""
    lines = [f"| feed ({args.rows} rows, DHIS2 2.40.0) | dhis2-cpp | floor | dhis2-cpp / floor |", "|---|---|---|---|"]
    for feed in ("still", "loop"):
        results, _ = measure(bin_dir, "2.40.0", args.rows, feed, ["ours", "floor"], args.polls, args.repeats, 0)
        label = "no new row" if feed == "still" else "a new row every poll"
        lines.append(f"| {label} | {fmt_us(median(results['ours']))} | {fmt_us(median(results['floor']))} | "
                     f"{ratio(median(results['ours']), median(results['floor']))} |")
    return lines


def figure_connections(bin_dir, args, kinds):
    """Figure 2: TCP connections per watch and bytes per poll, each client on a server of its own,
    once against DHIS2 as it is (no compression) and once behind a gzip proxy."""
    lines = ["| client (200-row feed, a new row every poll) | polls | requests | TCP connections | "
             "feed bytes per poll, DHIS2 alone | behind a gzip proxy | asks for |",
             "|---|---|---|---|---|---|---|"]
    names = {"ours": "dhis2-cpp", "floor": "floor", "python": "Python peer (httpx)", "curl": "curl + jq"}
    asks = {"ours": "`gzip, br`", "floor": "nothing", "python": "`gzip, deflate`", "curl": "nothing"}
    for kind in kinds:
        polls = args.curl_polls if kind == "curl" else args.polls
        per_poll = []
        for compress in (False, True):
            results, stats = measure(bin_dir, "2.42.1", args.rows, "loop", [kind], polls, 1, polls, compress)
            if not results.get(kind):
                break
            if not compress:
                plain_stats = stats
            per_poll.append(stats["feed_bytes"] / max(1, stats["feed_requests"]))
        if len(per_poll) < 2:
            continue
        lines.append(f"| {names[kind]} | {polls} | {plain_stats['requests']} | {plain_stats['connections']} | "
                     f"{per_poll[0] / 1024:.1f} KB | {per_poll[1] / 1024:.1f} KB | {asks[kind]} |")
    return lines


def figure_compressed_cost(bin_dir, args, kinds):
    """Figure 1 behind a gzip proxy: CPU per poll when the feed comes compressed."""
    lines = [f"| feed ({args.rows} rows, 2.42.1, behind a gzip proxy) | dhis2-cpp | floor asking for gzip | "
             "Python peer | dhis2-cpp / floor | Python / dhis2-cpp |", "|---|---|---|---|---|---|"]
    peers = ["ours", "floor-gzip"] + [k for k in kinds if k == "python"]
    for feed in ("still", "loop"):
        results, _ = measure(bin_dir, "2.42.1", args.rows, feed, peers, args.polls, args.repeats, 0, compress=True)
        m = {k: median(v) for k, v in results.items()}
        label = "no new row" if feed == "still" else "a new row every poll"
        lines.append(f"| {label} | {fmt_us(m.get('ours'))} | {fmt_us(m.get('floor-gzip'))} | {fmt_us(m.get('python'))} | "
                     f"{ratio(m.get('ours'), m.get('floor-gzip'))} | {ratio(m.get('python'), m.get('ours'))} |")
    return lines


def figure_feed_size(bin_dir, args):
    """Figure 8: CPU per poll with no new row as the feed grows."""
    lines = ["| rows | body | dhis2-cpp | floor | dhis2-cpp / floor |", "|---|---|---|---|---|"]
    points = []
    for rows in args.feed_sizes:
        results, _ = measure(bin_dir, "2.42.1", rows, "still", ["ours", "floor"], args.polls, args.repeats, 0)
        body = median(results["floor"], "body_bytes")
        lines.append(f"| {rows} | {body / 1024:.1f} KB | {fmt_us(median(results['ours']))} | "
                     f"{fmt_us(median(results['floor']))} | {ratio(median(results['ours']), median(results['floor']))} |")
        points.append((rows, median(results["ours"]), median(results["floor"])))
    if not args.no_write:
        plot_feed_size(points)
    return lines


WAITERS = {"ours": "dhis2-cpp", "fixed": "fixed 2 s (C++)", "python": "Python peer"}


def wait_once(bin_dir, kind, version, seconds, speed, pending_ms):
    """One kick-off and wait against a server of its own: (delay in emulated ms, feed requests, report)."""
    server = subprocess.Popen([str(bin_dir / "bench-server"), "--version", version, "--job-seconds", str(seconds),
                               "--speed", str(speed), "--pending-ms", str(pending_ms)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    ready = server.stdout.readline()
    if not ready:
        raise SystemExit(f"bench-server did not start (exit {server.wait()})")
    url = json.loads(ready)["url"]
    scale = str(1.0 / speed)
    if kind == "python":
        command = [python_with_httpx(), str(PEERS / "poll_httpx.py"), "--wait", url, scale]
    else:
        command = [str(bin_dir / "bench-wait"), kind, url, scale]
    return server, subprocess.Popen(command, stdout=subprocess.PIPE, universal_newlines=True)


def finish_wait(server, client):
    out, _ = client.communicate(timeout=3 * 3600)
    if client.returncode != 0:
        raise SystemExit(f"a waiting client failed (exit {client.returncode})")
    report = json.loads(out)
    server.stdin.close()
    stats = json.loads(server.stdout.readline())
    server.wait(timeout=30)
    if stats["completed_real_ms"] is None or not report["ok"]:
        raise SystemExit(f"the job did not complete as expected: {report} {stats}")
    report["delay_ms"] = report["returned_ms"] - stats["completed_real_ms"]
    report["server_feed_requests"] = stats["feed_requests"]
    return report


def latency_cases(args):
    """(version, job seconds, emulator speed, repeats)."""
    if args.tiny:
        return [("2.40.8", 0.2, 1.0, 1)]
    short = max(args.repeats, 7)
    cases = [("2.42.1", s, 1.0, short) for s in (1, 2, 4, 5)]
    cases += [("2.42.1", 10, 1.0, 3), ("2.42.1", 60, 1.0, 3), ("2.42.1", 1800, 60.0, 3)]
    cases += [("2.40.8", s, 1.0, short) for s in (1, 5)]
    return cases


def figure_latency(bin_dir, args, kinds):
    """Figure 3: the delay between the server's completion and wait() returning, and the requests
    of the wait, for jobs of several lengths; each client kicks off its own job on a server of its
    own, all three at once, the kick-off a random time before the 2.41+ scheduler tick."""
    waiters = ["ours", "fixed"] + (["python"] if "python" in kinds else [])
    rng = random.Random(12)
    rows = []
    for version, seconds, speed, repeats in latency_cases(args):
        runs = {k: [] for k in waiters}
        for i in range(repeats):
            # How long before the tick the kick-off comes: the runs' phases against the fixed
            # clients' 2 s spread evenly (stratified), the whole seconds drawn at random.
            pending = int((i + 0.5) / repeats * 2000) + 2000 * rng.randrange(10)
            if version.startswith("2.40"):
                pending = 0
            started = [(k, *wait_once(bin_dir, k, version, seconds, speed, pending)) for k in waiters]
            for kind, server, client in started:
                report = finish_wait(server, client)
                report["delay_ms"] *= speed  # in the job's (emulated) time
                runs[kind].append(report)
        rows.append((version, seconds, speed, {k: (statistics.median(r["delay_ms"] for r in v),
                                                   statistics.median(r["server_feed_requests"] for r in v),
                                                   statistics.median(r["max_rss_kb"] for r in v)) for k, v in runs.items()}))
    lines = ["| job | DHIS2 | runs | delay: " + " | ".join(WAITERS[k] for k in waiters) + " | dhis2-cpp / fixed | "
             "requests: " + " | ".join(WAITERS[k] for k in waiters) + " | dhis2-cpp / fixed | target |",
             "|---|---|---|" + "---|" * (2 * len(waiters) + 3)]
    for version, seconds, speed, m in rows:
        label = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
        target = ("delay ≤ 0.33x" if seconds < 10 else "requests ≤ 1.1x" if seconds >= 60 else "")
        if seconds < 10 and m["ours"][0] > m["fixed"][0] / 3:
            target += " (missed)"
        if seconds >= 60 and m["ours"][1] > 1.1 * m["fixed"][1]:
            target += " (missed)"
        repeats = next(r for v, s, _, r in latency_cases(args) if v == version and s == seconds)
        lines.append(f"| {label}{' (clock x%g)' % speed if speed != 1 else ''} | {version} | {repeats} | "
                     + " | ".join(f"{m[k][0]:.0f} ms" for k in waiters)
                     + f" | {m['ours'][0] / max(1.0, m['fixed'][0]):.2f}x | "
                     + " | ".join(f"{m[k][1]:g}" for k in waiters)
                     + f" | {m['ours'][1] / max(1, m['fixed'][1]):.2f}x | {target} |")
    rss = {k: statistics.median(m[k][2] for _, _, _, m in rows) for k in waiters}
    lines.append("")
    lines.append("Peak RSS of the waiting process (median over the runs above): "
                 + ", ".join(f"{WAITERS[k]} {rss[k] / 1024:.1f} MB" for k in waiters) + ".")
    if not args.no_write:
        plot_latency(rows, waiters)
    return lines


def scale_once(bin_dir, jobs, changing, share, warmup, measure, poll_ms, version="2.40.8"):
    """One TaskManager (bench-manager) watching `jobs` running jobs; the server's counts over the
    measured window, and the manager's report."""
    import time
    server = subprocess.Popen([str(bin_dir / "bench-server"), "--jobs", str(jobs), "--changing", str(changing),
                               "--version", version], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              universal_newlines=True)
    ready = json.loads(server.stdout.readline())
    manager = subprocess.Popen([str(bin_dir / "bench-manager"), ready["url"], str(warmup), str(measure), str(poll_ms)]
                               + ([] if share else ["--no-share"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               universal_newlines=True)
    manager.stdin.write(json.dumps(ready["refs"]))
    manager.stdin.close()
    time.sleep(warmup)
    server.stdin.write("mark\n")
    server.stdin.flush()
    first = json.loads(server.stdout.readline())
    time.sleep(measure)
    server.stdin.write("mark\n")
    server.stdin.flush()
    second = json.loads(server.stdout.readline())
    out = manager.stdout.read()
    if manager.wait(timeout=120) != 0:
        raise SystemExit(f"bench-manager failed (exit {manager.returncode})")
    server.stdin.close()
    server.stdout.read()
    server.wait(timeout=30)
    report = json.loads(out)
    rounds = measure * 1000 / poll_ms
    for key in ("feed_requests", "overview_requests"):
        report[key + "_per_round"] = (second[key] - first[key]) / rounds
    report["cpu_per_round_ms"] = report["cpu_s"] * 1000 / rounds
    report["connections"] = second["connections"]
    return report


def figure_scale(bin_dir, args):
    """Figures 4 and 5: one TaskManager watching many running jobs of three types (DHIS2 2.40.8,
    where they all run at once), polling every 2 s: requests and CPU per round, threads, memory."""
    if args.tiny:
        cases, warmup, measure, poll_ms = [(6, 1, True)], 0.5, 1.0, 200
    else:
        cases, warmup, measure, poll_ms = [(100, 0, True), (500, 0, True), (500, 50, True), (500, 0, False)], 8, 20, 2000
    lines = ["| jobs (3 types) | changing every second | shared polls | overview requests per round | "
             "own-feed requests per round | CPU per round | threads | peak RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for jobs, changing, share in cases:
        r = scale_once(bin_dir, jobs, changing, share, warmup, measure, poll_ms)
        lines.append(f"| {jobs} | {changing} | {'yes' if share else 'no'} | {r['overview_requests_per_round']:.1f} | "
                     f"{r['feed_requests_per_round']:.1f} | {r['cpu_per_round_ms']:.1f} ms | {r['threads']} | "
                     f"{r['max_rss_kb'] / 1024:.1f} MB |")
    lines.append("")
    lines.append(f"Each run: {warmup:g} s to settle, then {measure:g} s ({measure * 1000 / poll_ms:g} rounds of "
                 f"{poll_ms} ms) counted in the server's request log and the manager's CPU.")
    return lines


def figure_compile(args):
    """Figure 6: the compile time of one translation unit that makes one request, and of a 10-file
    project, with the single header (tools/bench/compile_time.py does the compiling)."""
    sys.path.insert(0, str(ROOT / "tools" / "bench"))
    import compile_time
    cxx = os.environ.get("CXX", "g++")
    include = ROOT / "single_include"
    lines = [f"| {cxx}, single header, best of {args.compile_runs} | json_only | compiled mode | handwritten | "
             "header-only | compiled / json_only | header-only / handwritten | target |",
             "|---|---|---|---|---|---|---|---|"]
    for opt, t in compile_time.measure(cxx, include, args.compile_runs).items():
        lines.append(f"| `{opt}` | {t['json_only']:.2f} s | {t['compiled']:.2f} s | {t['handwritten']:.2f} s | "
                     f"{t['header_only']:.2f} s | {t['compiled'] / t['json_only']:.2f}x | "
                     f"{t['header_only'] / t['handwritten']:.2f}x | ≤ 1.3x both |")
    p = compile_time.project(cxx, include)
    lines.append("")
    lines.append(f"A 10-file project that uses the client in every file, plus its `main.cpp`, built one file "
                 f"after another at `-O0` and linked: header-only {p['header_only']:.1f} s, compiled mode "
                 f"(one more file holds the definitions) {p['compiled']:.1f} s "
                 f"({p['header_only'] / p['compiled']:.1f}x faster).")
    return lines


def figure_size():
    """Figure 7: the stripped examples/task_await against shared libraries, at -O2 (the target's
    build) and with the size options a field build would add; where its bytes come from (nm -S of
    the unstripped -O2 program); and whether a fully static build can be made from the packages."""
    import tempfile
    cxx = os.environ.get("CXX", "g++")
    libs = subprocess.run(["pkg-config", "--cflags", "--libs", "cpp-httplib"], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.split() + ["-lssl", "-lcrypto", "-lpthread"]
    sections = ["-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"]
    if shutil.which("ld.lld"):
        sections += ["-fuse-ld=lld", "-Wl,--icf=all"]
    variants = [("`-O2` (the target)", ["-O2"]),
                (f"`-O2 {' '.join(sections)}`", ["-O2"] + sections),
                (f"`-Os {' '.join(sections)}`", ["-Os"] + sections)]
    lines = [f"| build (header-only, {cxx}) | stripped size | target |", "|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="dhis2cpp-size-") as tmp:
        def compile_(flags, out, strip=True):
            subprocess.run([cxx, "-std=c++17", *flags, "-DNDEBUG", "-I", str(ROOT / "include"),
                            str(ROOT / "examples" / "task_await.cpp"), "-o", out, *libs] + (["-s"] if strip else []),
                           check=True)
            return Path(out).stat().st_size
        for name, flags in variants:
            size = compile_(flags, str(Path(tmp) / "task_await"))
            target = "≤ 256 KB" if flags == ["-O2"] else ""
            lines.append(f"| {name} | {size / 1024:.0f} KB | {target} |")
        # Where the -O2 program's bytes come from: every defined symbol's size by its namespace.
        unstripped = str(Path(tmp) / "task_await_symbols")
        compile_(["-O2"], unstripped, strip=False)
        nm = subprocess.run(["nm", "-S", "-C", "--defined-only", unstripped], check=True, stdout=subprocess.PIPE,
                            universal_newlines=True).stdout
        owners = {"dhis2-cpp (`dhis2::`)": 0, "nlohmann_json": 0, "the standard library (`std::`)": 0, "other": 0}
        for line in nm.splitlines():
            parts = line.split(None, 3)
            if len(parts) < 4 or parts[2] not in "tTwWrRdDbB":
                continue
            size, name = int(parts[1], 16), parts[3]
            if "dhis2::" in name:
                owners["dhis2-cpp (`dhis2::`)"] += size
            elif "nlohmann::" in name:
                owners["nlohmann_json"] += size
            elif name.startswith("std::") or name.startswith("void std::") or " std::" in name[:40]:
                owners["the standard library (`std::`)"] += size
            else:
                owners["other"] += size
        headers = subprocess.run(["size", "-A", unstripped], check=True, stdout=subprocess.PIPE,
                                 universal_newlines=True).stdout
        unwind = sum(int(l.split()[1]) for l in headers.splitlines()
                     if l.startswith((".eh_frame", ".gcc_except_table")))
    lines.append("")
    lines.append("Where the `-O2` program's bytes are (`nm -S` of the unstripped program, by the namespace of "
                 "each symbol; a template instantiated for a `dhis2::` type counts as dhis2-cpp's): " +
                 ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in owners.items()) +
                 f"; unwind tables (`.eh_frame`, `.gcc_except_table`) {unwind / 1024:.0f} KB.")
    libdirs = subprocess.run(["pkg-config", "--variable=libdir", "cpp-httplib"], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.split()
    static_httplib = [d for d in libdirs if Path(d, "libcpp-httplib.a").exists()]
    lines.append("")
    if static_httplib:
        with tempfile.TemporaryDirectory(prefix="dhis2cpp-static-") as tmp:
            out = Path(tmp) / "task_await"
            run = subprocess.run([cxx, "-std=c++17", "-O2", "-DNDEBUG", "-static", "-I", str(ROOT / "include"),
                                  str(ROOT / "examples" / "task_await.cpp"), "-o", str(out), *libs, "-lz", "-s"],
                                 stderr=subprocess.PIPE, universal_newlines=True)
            lines.append(f"Fully static (`-O2 -static`): {out.stat().st_size / 1024:.0f} KB." if run.returncode == 0
                         else f"Fully static (`-O2 -static`): the link failed: {run.stderr.strip()[:200]}")
    else:
        lines.append("Fully static: not possible from Debian's packages. `libcpp-httplib-dev` ships cpp-httplib "
                     f"as a shared library only (no `libcpp-httplib.a` in {', '.join(libdirs)}); OpenSSL, zlib and "
                     "brotli do ship static archives.")
    return lines


ARM64_PKG_CONFIG = "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig"


def figure_arm64(bin_dir):
    """Figure 9: examples/task_await cross-compiled for arm64 (Debian's cross toolchain, multiarch
    libraries) and run under qemu-user against bench-server on this machine."""
    tools = ("aarch64-linux-gnu-g++", "qemu-aarch64")
    if not all(shutil.which(t) for t in tools) or not Path(ARM64_PKG_CONFIG.split(":")[0], "cpp-httplib.pc").exists():
        return ["Not measured: needs `crossbuild-essential-arm64`, `qemu-user` and `libcpp-httplib-dev:arm64` "
                "(docs/building.md, Cross-compiling)."]
    import tempfile
    env = dict(os.environ, PKG_CONFIG_LIBDIR=ARM64_PKG_CONFIG)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "cpp-httplib"], env=env, check=True,
                           stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    with tempfile.TemporaryDirectory(prefix="dhis2cpp-arm64-") as tmp:
        program = Path(tmp) / "task_await"
        subprocess.run(["aarch64-linux-gnu-g++", "-std=c++17", "-O2", "-DNDEBUG", "-I", str(ROOT / "include"),
                        str(ROOT / "examples" / "task_await.cpp"), "-o", str(program), *flags, "-lssl", "-lcrypto",
                        "-lpthread", "-s"], check=True)
        size = program.stat().st_size
        server = subprocess.Popen([str(bin_dir / "bench-server"), "--version", "2.42.1", "--job-seconds", "1",
                                   "--pending-ms", "500"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  universal_newlines=True)
        url = json.loads(server.stdout.readline())["url"]
        timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
        run = subprocess.run(timer + ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", str(program)],
                             env=dict(os.environ, DHIS2_URL=url, DHIS2_USERNAME="admin", DHIS2_PASSWORD="district"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        server.stdin.close()
        server.stdout.read()
        server.wait(timeout=30)
    if run.returncode != 0:
        raise SystemExit(f"task_await under qemu-aarch64 failed (exit {run.returncode}): {run.stderr}")
    rss = f"{int(run.stderr.split()[-1]) / 1024:.1f} MB" if timer else "n/a"
    return ["| `examples/task_await`, arm64 | stripped size (`-O2`, shared libraries) | exit | peak RSS under qemu-user |",
            "|---|---|---|---|",
            f"| `aarch64-linux-gnu-g++` 12, header-only | {size / 1024:.0f} KB | {run.returncode} "
            f"(\"{run.stdout.strip().splitlines()[-1]}\") | {rss} |"]


def gnuplot(script):
    if shutil.which("gnuplot") is None:
        print("run.py: gnuplot is not installed (apt-get install gnuplot-nox): no plots", file=sys.stderr)
        return
    IMAGES.mkdir(exist_ok=True)
    subprocess.run(["gnuplot"], input=script, universal_newlines=True, check=True)


def plot_latency(rows, waiters):
    """docs/img/latency-delay.png and latency-requests.png: against the job's length, DHIS2 2.42.1."""
    data = [(s, m) for v, s, _, m in rows if v == "2.42.1"]
    table = "\n".join(f"{s} " + " ".join(f"{m[k][0] / 1000:.3f} {m[k][1]}" for k in waiters) for s, m in data)
    for name, column, ylabel, logy in (("latency-delay", 0, "median delay after the job ends (s)", False),
                                       ("latency-requests", 1, "feed requests of the wait", True)):
        plots = ", ".join(f"$d using 1:{2 + 2 * i + column} with linespoints title '{WAITERS[k]}'"
                          for i, k in enumerate(waiters))
        gnuplot(f"""$d << EOD
{table.replace(chr(92) + 'n', chr(10))}
EOD
set terminal pngcairo size 720,420 font ',10'
set output '{IMAGES / (name + '.png')}'
set logscale x
{'set logscale y' if logy else 'set yrange [0:*]'}
set xlabel 'job length (s), DHIS2 2.42.1: the job waits for the 20 s scheduler tick'
set ylabel '{ylabel}'
set key top left
set grid
plot {plots}
""")


def plot_feed_size(points):
    """docs/img/poll-cost-feed-size.png: CPU per poll with no new row against the feed's rows."""
    table = "\n".join(f"{rows} {ours} {floor}" for rows, ours, floor in points)
    gnuplot(f"""$d << EOD
{table.replace(chr(92) + 'n', chr(10))}
EOD
set terminal pngcairo size 720,420 font ',10'
set output '{IMAGES / 'poll-cost-feed-size.png'}'
set logscale x
set yrange [0:*]
set xlabel 'rows in the feed (DHIS2 2.42.1, no new row)'
set ylabel 'CPU per poll (µs)'
set key top left
set grid
plot $d using 1:2 with linespoints title 'dhis2-cpp', $d using 1:3 with linespoints title 'floor (cpp-httplib + nlohmann by hand)'
""")


def replace_block(text, name, body):
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no <!-- bench:{name} --> block")
    return pattern.sub(lambda m: m.group(1) + "\n".join(body) + "\n" + m.group(2), text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="the directory of bench-server and bench-poll (default: build them)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--tiny", action="store_true", help="each program once, a few polls; print, write nothing")
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--curl-polls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--compile-runs", type=int, default=3, help="compile each file this many times, keep the best")
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave docs/benchmarks.md alone")
    parser.add_argument("--only", nargs="+",
                        choices=["poll-cost", "content-keys", "compressed", "connections", "feed-size", "latency", "scale", "compile", "size",
                                 "arm64"],
                        help="measure (and rewrite) only these tables")
    args = parser.parse_args()
    args.feed_sizes = [10, 100, 500]
    if args.tiny:
        args.polls, args.curl_polls, args.repeats, args.rows, args.feed_sizes = 20, 3, 1, 10, [10]
        args.no_write = True
    bin_dir = args.bin or build(args.build_dir)

    kinds = [k for k in ("ours", "floor", "python", "curl") if available(k)]
    missing = sorted({"ours", "floor", "python", "curl"} - set(kinds))
    if missing:
        print(f"run.py: skipping {', '.join(missing)} (python3-httpx, curl or jq missing)", file=sys.stderr)

    figures = {"poll-cost": lambda: figure_poll_cost(bin_dir, args, kinds),
               "content-keys": lambda: figure_content_keys(bin_dir, args),
               "compressed": lambda: figure_compressed_cost(bin_dir, args, kinds),
               "connections": lambda: figure_connections(bin_dir, args, kinds),
               "feed-size": lambda: figure_feed_size(bin_dir, args),
               "latency": lambda: figure_latency(bin_dir, args, kinds),
               "scale": lambda: figure_scale(bin_dir, args)}
    if not args.tiny:  # compiling is not a program that can rot; CI's header checks compile it all
        figures["compile"] = lambda: figure_compile(args)
        figures["size"] = figure_size
        figures["arm64"] = lambda: figure_arm64(bin_dir)
    blocks = {"machine": [machine(), "", f"Command: `{COMMAND}` ({args.polls} polls per run, median of "
                                        f"{args.repeats} runs; curl + jq {args.curl_polls} polls)."]}
    if args.only:
        blocks = {}  # the machine line describes a whole run
    for name, figure in figures.items():
        if not args.only or name in args.only:
            blocks[name] = figure()
    for name, body in blocks.items():
        print(f"== {name}\n" + "\n".join(body) + "\n")
    if not args.no_write:
        text = DOC.read_text()
        for name, body in blocks.items():
            text = replace_block(text, name, body)
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
