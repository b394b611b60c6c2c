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
COMMAND = "python3 tools/bench/run.py"


def build(build_dir):
    """Configures and builds the benchmark programs at -O2 (header-only, like a user's tool)."""
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DDHIS2CPP_BUILD_TESTS=OFF", "-DDHIS2CPP_BUILD_EXAMPLES=ON", "-DDHIS2CPP_BUILD_TOOLS=ON",
                    "-DDHIS2CPP_WERROR=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "bench-server", "bench-poll"], check=True)
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
    for rows in args.feed_sizes:
        results, _ = measure(bin_dir, "2.42.1", rows, "still", ["ours", "floor"], args.polls, args.repeats, 0)
        body = median(results["floor"], "body_bytes")
        lines.append(f"| {rows} | {body / 1024:.1f} KB | {fmt_us(median(results['ours']))} | "
                     f"{fmt_us(median(results['floor']))} | {ratio(median(results['ours']), median(results['floor']))} |")
    return lines


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
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave docs/benchmarks.md alone")
    parser.add_argument("--only", nargs="+",
                        choices=["poll-cost", "content-keys", "compressed", "connections", "feed-size"],
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
               "feed-size": lambda: figure_feed_size(bin_dir, args)}
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
