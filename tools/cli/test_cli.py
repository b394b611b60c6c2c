#!/usr/bin/env python3
"""Drives the `dhis2` command as a user and a script would, against dhis2-emulator (python3's
standard library only).

Usage: test_cli.py --list
       test_cli.py PATH/TO/dhis2 PATH/TO/dhis2-emulator CASE

Every case checks exit codes and output; every output of every case (stdout and stderr, the
pseudo-terminal's too) is scanned for the password and the token, which must never appear.

Exit status: 0 passed, 1 failed, 77 skipped.
"""

import http.server
import json
import os
import pty
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import base64

SKIP = 77
PASSWORD = "S3cret-Pa55word"
CASES = {}
SLOW = {"server_progress"}  # waits for the server's 10-second progress reads: one build runs it
OUTPUTS = []  # every output seen, for the secret scan
SECRETS = [PASSWORD, base64.b64encode(("admin:" + PASSWORD).encode()).decode()]  # as given, as Basic sends it
DHIS2 = EMULATOR = None


class Failure(Exception):
    pass


class Skipped(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def case(fn):
    CASES[fn.__name__[len("case_"):]] = fn
    return fn


class Emulator:
    def __init__(self, *args):
        self.process = subprocess.Popen([EMULATOR, "--port", "0", "--user", "admin:" + PASSWORD] + list(args),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.process.stdout], daemon=True).start()
        self.url = self.token = None
        deadline = time.time() + 15
        while time.time() < deadline and not (self.url and self.token):
            try:
                line = lines.get(timeout=0.5).strip()
            except queue.Empty:
                check(self.process.poll() is None, "the emulator exited: " + self.process.stderr.read())
                continue
            if line.startswith("url: "):
                self.url = line[5:]
            elif line.startswith("token: "):
                self.token = line.split()[1]
        check(self.url and self.token, "the emulator did not print its URL and token")
        SECRETS.append(self.token)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def login(self):
        return ["--url", self.url, "--username", "admin", "--password", PASSWORD]

    def post(self, path, body, content_type="application/json"):
        request = urllib.request.Request(self.url + path, data=body.encode(), method="POST")
        request.add_header("Authorization", "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode())
        request.add_header("Content-Type", content_type)
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read().decode())


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def json_lines(self):
        lines = [l for l in self.out.splitlines() if l.strip()]
        parsed = []
        for l in lines:
            try:
                parsed.append(json.loads(l))
            except ValueError:
                raise Failure("a stdout line is not JSON: " + repr(l))
            check(isinstance(parsed[-1], dict) and "event" in parsed[-1], "a JSON line without an event: " + l)
        return parsed

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.rc, self.out, self.err)


def run(*args, env=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DHIS2_") and k != "NO_COLOR"}
    full_env.update(env or {})
    p = subprocess.run([DHIS2] + list(args), capture_output=True, text=True, timeout=timeout, env=full_env,
                       stdin=subprocess.DEVNULL)
    OUTPUTS.extend([p.stdout, p.stderr])
    return Result(p.returncode, p.stdout, p.stderr)


def expect(result, rc, *needles, stream="err"):
    check(result.rc == rc, "expected exit %d, got %r" % (rc, result))
    text = result.err if stream == "err" else result.out
    for n in needles:
        check(n in text, "expected %r in std%s: %r" % (n, stream, result))


def one_line_error(result):
    lines = [l for l in result.err.splitlines() if l.strip() and not l.startswith("dhis2: warning:")]
    check(len(lines) == 1 and lines[0].startswith("dhis2: "), "not one error line: %r" % result)


class Screen:
    """The few terminal controls the live display uses, applied to a screen of lines: what a person
    sees at the end."""

    def __init__(self, text):
        self.rows, self.row, self.col = [[]], 0, 0
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\x1b":
                m = re.match(r"\x1b\[([0-9;?]*)([A-Za-z])", text[i:])
                check(m, "an escape sequence the display should not send: %r" % text[i:i + 10])
                self.control(m.group(1), m.group(2))
                i += len(m.group(0))
                continue
            if c == "\r":
                self.col = 0
            elif c == "\n":
                self.row += 1
                self.col = 0
                while len(self.rows) <= self.row:
                    self.rows.append([])
            else:
                line = self.rows[self.row]
                line.extend(" " * (self.col + 1 - len(line)))
                line[self.col] = c
                self.col += 1
            i += 1

    def control(self, args, letter):
        if letter == "A":
            self.row = max(0, self.row - int(args or "1"))
        elif letter == "J":
            del self.rows[self.row][self.col:]
            del self.rows[self.row + 1:]
        elif letter == "K":
            del self.rows[self.row][self.col:]
        elif letter in "mhl":
            pass
        else:
            raise Failure("an unexpected control: %r" % (args + letter))

    def lines(self):
        return ["".join(r).rstrip() for r in self.rows if "".join(r).strip()]


def in_pty(args, env=None, timeout=60, interrupt_after=None):
    """Runs dhis2 on a pseudo-terminal; returns (exit code, everything it wrote). With
    interrupt_after, sends SIGINT once that text was written."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DHIS2_") and k != "NO_COLOR"}
    full_env["TERM"] = "xterm"
    full_env.update(env or {})
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DHIS2, [DHIS2] + args, full_env)
    out, deadline, sent = b"", time.time() + timeout, False
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
            if interrupt_after and not sent and interrupt_after.encode() in out:
                os.kill(pid, signal.SIGINT)
                sent = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    OUTPUTS.append(text)
    return os.waitstatus_to_exitcode(status), text


def finish(p, timeout=60):
    """The rest of a process's output after readline(): through the same buffered readers, since
    communicate() reads the pipes itself and drops what readline() had buffered."""
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        out, err = p.stdout.read(), p.stderr.read()
        p.wait()
    finally:
        timer.cancel()
    return out, err


def wait_running(emulator, ref, within=30):
    """Waits until `dhis2 jobs` lists the job as running; returns that jobs line."""
    job_type, uid = ref.split("/")
    deadline = time.time() + within
    while time.time() < deadline:
        [line] = run(*(emulator.login() + ["--json", "jobs"])).json_lines()
        if uid in [p.get("jobId") for p in line["running"].get(job_type, [])]:
            return line
        time.sleep(0.2)
    raise Failure("%s was not running within %d s" % (ref, within))


# ---- cases -------------------------------------------------------------------------------------

@case
def case_help():
    r = run("--help")
    expect(r, 0, "info", "watch", "run", "cancel", "revert", "jobs", "demo", "Exit codes", "DHIS2_TOKEN", stream="out")
    for command in ["info", "watch", "run", "cancel", "revert", "jobs", "demo"]:
        expect(run(command, "--help"), 0, "Usage", stream="out")


@case
def case_usage_errors():
    with Emulator("--speed", "0") as e:
        bad = [
            ([], "subcommand"),
            (e.login() + ["watch"], "JOB_TYPE/UID or --resume"),
            (e.login() + ["watch", "ANALYTICS_TABLE"], "no '/'"),
            (e.login() + ["watch", "ANALYTICS_TABLE/xyz"], "11 letters and digits"),
            (e.login() + ["watch", "analytics_table/BFa3jDsbtdO"], "capitals"),
            (e.login() + ["cancel", "ANALYTICS_TABLE/1Fa3jDsbtdO"], "starting with a letter"),
            (e.login() + ["watch", "ANALYTICS_TABLE/BFa3jDsbtdO", "--max-outage", "0"], "--max-outage"),
            (e.login() + ["watch", "ANALYTICS_TABLE/BFa3jDsbtdO", "--resume", "x"], "not both"),
            (e.login() + ["watch", "d2w1.garbage.00000000"], "token"),
            (e.login() + ["run", "reports"], "reports"),
            (e.login() + ["run", "monitoring", "--last-years", "2"], "analytics only"),
            (e.login() + ["watch", "ANALYTICS_TABLE/BFa3jDsbtdO", "--poll", "0"], "--poll"),
            (e.login() + ["--timeout", "-1", "info"], "--timeout"),
            (["info"], "no server given"),
            (["--url", e.url, "info"], "no credentials"),
            (["--url", e.url, "--username", "admin", "info"], "needs a password"),
            (e.login() + ["--token", e.token, "info"], "not both"),
            (e.login() + ["cancel"], "ref"),
            (e.login() + ["demo", "--version", "9.9"], "9.9"),
            (["--unknown-option", "info"], "unknown-option"),
        ]
        for args, needle in bad:
            r = run(*args)
            expect(r, 2, needle)
            one_line_error(r)
        r = run(*(e.login() + ["--json", "watch", "NOSLASH"]))
        check(r.rc == 2, repr(r))
        lines = r.json_lines()
        check(len(lines) == 1 and lines[0]["event"] == "error" and lines[0]["kind"] == "usage", repr(r))
        # An argument that is not UTF-8: a JSON error line, not a crash.
        p = subprocess.run([DHIS2.encode(), b"--json", b"run", b"caf\xe9"], capture_output=True, timeout=30)
        OUTPUTS.extend([p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")])
        check(p.returncode == 2, "exit %d: %r" % (p.returncode, p.stderr))
        [line] = [json.loads(l) for l in p.stdout.decode().splitlines()]
        check(line["event"] == "error" and line["kind"] == "usage", repr(line))


@case
def case_info():
    with Emulator("--speed", "0", "--version", "2.41.4") as e:
        r = run(*(e.login() + ["info"]))
        expect(r, 0, "2.41.4", "admin", "superuser", stream="out")
        r = run(*(e.login() + ["--json", "info"]))
        check(r.rc == 0, repr(r))
        [line] = r.json_lines()
        check(line["event"] == "info" and line["version"] == "2.41.4" and line["user"]["username"] == "admin",
              repr(line))
        check(line["system"]["version"] == "2.41.4", repr(line))
        # Not what a superuser's system info also holds (the database, the JVM's options).
        check(not {"databaseInfo", "javaOpts", "redisHostname"} & set(line["system"]), repr(line["system"]))
        # The environment stands in for the options.
        r = run("info", env={"DHIS2_URL": e.url, "DHIS2_USERNAME": "admin", "DHIS2_PASSWORD": PASSWORD})
        expect(r, 0, "2.41.4", stream="out")
        r = run("info", env={"DHIS2_URL": e.url, "DHIS2_TOKEN": e.token})
        expect(r, 0, "2.41.4", stream="out")
        # An option wins over the environment: a token given as an option, a user in the environment.
        r = run("--url", e.url, "--token", e.token, "info", env={"DHIS2_USERNAME": "nobody"})
        expect(r, 0, "admin", stream="out")


@case
def case_authentication():
    with Emulator("--speed", "0") as e:
        r = run("--url", e.url, "--username", "admin", "--password", "wrong-" + PASSWORD, "info")
        expect(r, 5, "user name and password")
        one_line_error(r)
        # A token with a bad checksum: refused before any request, saying what is wrong.
        broken = e.token[:-1] + ("A" if e.token[-1] != "A" else "B")
        SECRETS.append(broken)
        r = run("--url", e.url, "--token", broken, "info")
        expect(r, 5, "checksum")
        r = run("--url", e.url, "--token", broken, "--json", "info")
        check(r.rc == 5 and r.json_lines()[-1]["kind"] == "authentication", repr(r))


@case
def case_network_and_not_dhis2():
    r = run("--url", "http://127.0.0.1:1", "--username", "a", "--password", PASSWORD, "info")
    expect(r, 4, "cannot connect")
    one_line_error(r)
    r = run("--url", "http://127.0.0.1:1", "--username", "a", "--password", PASSWORD, "--json", "info")
    check(r.rc == 4 and r.json_lines()[-1]["kind"] == "network", repr(r))

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>Welcome to nginx!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = run("--url", "http://127.0.0.1:%d" % server.server_address[1], "-u", "a", "-p", PASSWORD, "info")
        expect(r, 7, "DHIS2 server")
        one_line_error(r)
    finally:
        server.shutdown()
    with Emulator("--speed", "0", "--reported-version", "2.30.1") as e:
        r = run(*(e.login() + ["info"]))
        expect(r, 7, "2.30")


@case
def case_tls():
    openssl = shutil.which("openssl")
    if openssl is None:
        raise Skipped("no openssl command to make a certificate")
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        made = subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                               "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise Skipped("openssl could not make a certificate: " + made.stderr)
        with Emulator("--speed", "0", "--tls", cert, key) as e:
            check(e.url.startswith("https://"), e.url)
            r = run(*(e.login() + ["info"]))
            expect(r, 4, "--ca-cert")
            one_line_error(r)
            r = run(*(e.login() + ["--ca-cert", cert, "info"]))
            expect(r, 0, "2.42.1", stream="out")
            r = run(*(e.login() + ["--insecure", "info"]))
            expect(r, 0, "--insecure")
            check("not verified" in r.err, repr(r))
            expect(run(*(e.login() + ["--ca-cert", os.path.join(d, "missing.pem"), "info"])), 2, "missing.pem")


@case
def case_run_json():
    for version in ["2.42.1", "2.40.8"]:
        with Emulator("--speed", "100", "--version", version) as e:
            r = run(*(e.login() + ["--json", "run", "analytics", "--poll", "0.2"]))
            check(r.rc == 0, repr(r))
            lines = r.json_lines()
            events = [l["event"] for l in lines]
            check(events[0] == "started" and lines[0]["ref"].startswith("ANALYTICS_TABLE/"), repr(lines[0]))
            check(lines[0]["resume_token"].startswith("d2w1."), repr(lines[0]))
            check(events[-1] == "completed" and lines[-1]["outcome"] == "succeeded", repr(lines[-1]))
            check(lines[-1]["ref"] == lines[0]["ref"] and lines[-1]["rule"], repr(lines[-1]))
            rows = [l for l in lines if l["event"] == "notification"]
            check(len(rows) >= 5, repr(r))
            check(all(l["category"] == "ANALYTICS_TABLE" and "time" in l and "level" in l for l in rows), repr(rows))
            check(rows[-1]["completed"] is True, repr(rows[-1]))
            ids = [(l["id"], l["time"], l.get("message")) for l in rows]
            check(len(ids) == len(set(ids)), "a notification twice: %r" % ids)
            if version == "2.40.8":  # progress from the rows, reported as it changes
                progress = [l for l in lines if l["event"] == "progress"]
                check(progress and progress[-1]["source"] == "notifications" and progress[-1]["sequence"],
                      repr(progress))


@case
def case_server_progress():
    """On 2.41+ the server's structured progress, read about every 10 s, comes as progress lines."""
    with Emulator("--speed", "3", "--version", "2.42.1") as e:
        r = run(*(e.login() + ["--json", "run", "analytics", "--poll", "0.5"]))
        check(r.rc == 0, repr(r))
        progress = [l for l in r.json_lines() if l["event"] == "progress"]
        check(progress and all(l["source"] == "server" for l in progress), repr(progress))
        stages = progress[-1]["sequence"][0]["stages"]
        check(stages and all("description" in s and "status" in s for s in stages), repr(progress[-1]))


@case
def case_no_wait_and_resume():
    with Emulator("--speed", "50") as e:
        r = run(*(e.login() + ["run", "resource-tables", "--no-wait"]))
        check(r.rc == 0 and re.fullmatch(r"d2w1\.\S+\n", r.out), repr(r))
        token = r.out.strip()
        r = run(*(e.login() + ["watch", "--resume", token, "--poll", "0.2"]))
        expect(r, 0, "Succeeded", "RESOURCE_TABLE/", stream="out")
        ref = re.search(r"RESOURCE_TABLE/\w+", r.out).group(0)
        r = run(*(e.login() + ["watch", ref]))
        expect(r, 0, "Succeeded", stream="out")
        r = run(*(e.login() + ["--json", "run", "monitoring", "--no-wait"]))
        check(r.rc == 0, repr(r))
        [line] = r.json_lines()
        check(line["event"] == "started" and line["ref"].startswith("MONITORING/"), repr(line))


@case
def case_failed_job():
    with Emulator("--speed", "50", "--fail", "ANALYTICS_TABLE") as e:
        r = run(*(e.login() + ["run", "analytics", "--poll", "0.2"]))
        expect(r, 1, "Failed", "why:", stream="out")
        r = run(*(e.login() + ["--json", "run", "analytics", "--poll", "0.2"]))
        check(r.rc == 1 and r.json_lines()[-1]["outcome"] == "failed", repr(r))


@case
def case_cancel():
    for version in ["2.42.1", "2.39.3"]:
        # Slow enough that the cancel lands before the run ends on a loaded machine: on 2.42 it is
        # applied at the next housekeeping run (every 20 s, 4 s here), then at the next stage.
        with Emulator("--speed", "5", "--version", version) as e:
            r = run(*(e.login() + ["--json", "run", "analytics", "--no-wait"]))
            ref = r.json_lines()[0]["ref"]
            # Running, not queued: a queued job cancelled on 2.41+ never writes a row, and a watch
            # then asks the job row only after WatchOptions::start_grace (60 s).
            wait_running(e, ref)
            r = run(*(e.login() + ["cancel", ref]))
            expect(r, 0, "cancel", stream="out")
            r = run(*(e.login() + ["--json", "watch", ref, "--poll", "0.2", "--timeout", "60"]), timeout=90)
            check(r.rc == 6 and r.json_lines()[-1]["outcome"] == "cancelled", version + ": " + repr(r))


@case
def case_timeout():
    with Emulator("--speed", "1") as e:
        r = run(*(e.login() + ["run", "analytics", "--timeout", "1"]))
        expect(r, 3, "dhis2 watch --resume d2w1.")
        one_line_error(r)
        r = run(*(e.login() + ["--json", "run", "analytics", "--timeout", "0.5"]))
        check(r.rc == 3, repr(r))
        last = r.json_lines()[-1]
        check(last["kind"] == "timeout" and last["resume_token"].startswith("d2w1."), repr(last))


@case
def case_server_lost():
    """The server goes away mid-watch: not a wait for ever, but exit 4 after --max-outage."""
    e = Emulator("--speed", "1", "--version", "2.40.8")
    ref = run(*(e.login() + ["--json", "run", "analytics", "--no-wait"])).json_lines()[0]["ref"]
    p = subprocess.Popen([DHIS2] + e.login() + ["--json", "watch", ref, "--poll", "0.2", "--max-outage", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    check('"event":"notification"' in first, "no notification first: %r" % first)
    e.__exit__(None, None, None)  # the server stops
    started = time.time()
    out, err = finish(p)
    OUTPUTS.extend([first + out, err])
    r = Result(p.returncode, first + out, err)
    check(r.rc == 4, "expected 4: %r" % r)
    check(time.time() - started < 30, "took %.0f s to give up" % (time.time() - started))
    last = r.json_lines()[-1]
    check(last["kind"] == "network" and "no answer from the server" in last["message"], repr(last))
    check(last["resume_token"].startswith("d2w1."), repr(last))


@case
def case_jobs():
    with Emulator("--speed", "8", "--version", "2.42.1") as e:
        r = run(*(e.login() + ["--json", "jobs"]))
        check(r.rc == 0, repr(r))
        [line] = r.json_lines()
        check(line["event"] == "jobs" and line["running"] == {} and line["completed"] == {}, repr(line))
        expect(run(*(e.login() + ["jobs"])), 0, "running now: none", stream="out")
        started = run(*(e.login() + ["--json", "run", "analytics", "--no-wait"])).json_lines()[0]["ref"]
        uid = started.split("/")[1]
        line = wait_running(e, started)
        check([p["jobId"] for p in line["running"].get("ANALYTICS_TABLE", [])] == [uid], repr(line))
        expect(run(*(e.login() + ["jobs"])), 0, started, stream="out")
    with Emulator("--speed", "100", "--version", "2.39.3") as e:
        ref = run(*(e.login() + ["--json", "run", "resource-tables"])).json_lines()[0]["ref"]
        [line] = run(*(e.login() + ["--json", "jobs"])).json_lines()
        done = line["completed"].get("RESOURCE_TABLE", [])
        check([p["jobId"] for p in done] == [ref.split("/")[1]] and done[0]["status"] == "SUCCESS", repr(line))


@case
def case_revert():
    with Emulator("--speed", "100", "--version", "2.40.8") as e:
        r = run(*(e.login() + ["revert", "ANALYTICS_TABLE/BFa3jDsbtdO"]))
        expect(r, 7, "2.41")
    with Emulator("--speed", "100", "--version", "2.42.1") as e:
        ref = run(*(e.login() + ["--json", "run", "resource-tables", "--poll", "0.2"])).json_lines()[0]["ref"]
        r = run(*(e.login() + ["revert", ref]))
        expect(r, 1, "not running")
        one_line_error(r)


@case
def case_import_summary():
    with Emulator("--speed", "50") as e:
        reply = e.post("/api/dataValueSets?async=true", json.dumps({"dataValues": []}))
        job = reply["response"]
        r = run(*(e.login() + ["watch", job["jobType"] + "/" + job["id"], "--poll", "0.2"]))
        expect(r, 0, "Succeeded", "counts: 10 imported, 2 updated, 0 deleted, 1 ignored", stream="out")


@case
def case_live_display():
    rc, text = in_pty(["demo", "--speed", "8"])
    check(rc == 0, "exit %d: %r" % (rc, text[-2000:]))
    check(re.search(r"\x1b\[\d+A", text), "no redraw in place (cursor up): %r" % text[:2000])
    check("\x1b[J" in text and "\x1b[?25l" in text and "\x1b[?25h" in text, "no erase/cursor handling")
    check("stage 4 of 7: Populating analytics tables" in text, "no stage of stages: %r" % text[-3000:])
    check(re.search(r"\[#+\.*\] \d+/12", text), "no item bar")
    check("left (from the previous run's stage times)" in text, "no estimate")
    lines = [l for l in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "\n").split("\n") if l.strip()]
    outcome = [i for i, l in enumerate(lines) if l.startswith("Succeeded: ANALYTICS_TABLE/")]
    check(outcome, "no outcome line: %r" % lines[-15:])
    check(all(not l.startswith(("ANALYTICS_TABLE/", "about ")) for l in lines[outcome[-1]:]),
          "the display was redrawn after the outcome: %r" % lines[outcome[-1]:])
    screen = Screen(text).lines()
    # The outcome, why, and the seven stages with their times are the last lines.
    check(screen[-10].startswith("Succeeded: ANALYTICS_TABLE/") and screen[-9].startswith("  why: "), repr(screen[-12:]))
    check(screen[-8] == "  stages:" and screen[-1].strip().endswith("Swapping analytics tables"), repr(screen[-12:]))
    check(not [l for l in screen if l.startswith(("ANALYTICS_TABLE/", "about ", "last: ", "stage "))],
          "the block was left on the screen: %r" % screen)
    for row in ["INFO   Validating analytics tables", "INFO   Populating analytics tables"]:
        check(len([l for l in screen if l.endswith(row)]) == 1, "%r not once on the screen: %r" % (row, screen))
    # NO_COLOR: no colour and no redraws, the plain lines.
    rc, text = in_pty(["demo", "--speed", "20"], env={"NO_COLOR": "1"})
    check(rc == 0 and "\x1b[" not in text, "escape sequences with NO_COLOR: %r" % text[:500])
    check("INFO   Populating analytics tables" in text and "Succeeded:" in text, repr(text[-1500:]))


@case
def case_live_interrupt():
    """Ctrl-C during the live display: the block erased, the cursor shown again, how to resume."""
    with Emulator("--speed", "1", "--version", "2.40.8") as e:  # starts at once, no scheduler tick
        ref = run(*(e.login() + ["--json", "run", "analytics", "--no-wait"])).json_lines()[0]["ref"]
        rc, text = in_pty(e.login() + ["watch", ref, "--poll", "0.2"], interrupt_after="INFO   Validating")
        check(rc == 130, "exit %d: %r" % (rc, text[-1500:]))
        check(text.rfind("\x1b[?25h") > text.rfind("\x1b[?25l") >= 0, "the cursor stays hidden")
        screen = Screen(text).lines()
        check(not [l for l in screen if l.startswith((ref + "  ", "last: ", "stage "))], "the block stayed: %r" % screen)
        check(screen[-2].startswith(ref + ": was running, stage "), "where it stood: %r" % screen[-3:])
        check(screen[-1].startswith("dhis2: interrupted: stopped following " + ref), repr(screen[-3:]))
        check("; resume the watch with: dhis2 watch --resume d2w1." in screen[-1], repr(screen[-1]))


@case
def case_demo():
    r = run("--json", "demo", "--speed", "20")
    check(r.rc == 0, repr(r))
    lines = r.json_lines()
    check(lines[0]["event"] == "started" and lines[-1]["event"] == "completed", repr(lines))
    check(lines[-1]["outcome"] == "succeeded", repr(lines[-1]))
    check("demo: DHIS2 2.42.1 emulated at http://127.0.0.1:" in r.err, repr(r))
    r = run("demo", "--speed", "20", "--version", "2.39.3")
    expect(r, 0, "Succeeded: ANALYTICS_TABLE/", "stages:", "Populating analytics tables (12 items)", stream="out")
    check("DHIS2 2.39.3" in r.err, repr(r))


@case
def case_interrupt():
    with Emulator("--speed", "10", "--version", "2.40.8") as e:
        ref = run(*(e.login() + ["--json", "run", "analytics", "--no-wait"])).json_lines()[0]["ref"]
        p = subprocess.Popen([DHIS2] + e.login() + ["--json", "watch", ref, "--poll", "0.2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        head = []  # two rows delivered, then Ctrl-C
        while len([l for l in head if '"event":"notification"' in l]) < 2:
            head.append(p.stdout.readline())
            check(head[-1], "the watch ended early: %r" % head)
        p.send_signal(signal.SIGINT)
        out, err = finish(p)
        out = "".join(head) + out
        OUTPUTS.extend([out, err])
        first = Result(p.returncode, out, err)
        check(first.rc == 130, "expected 130: %r" % first)
        token = re.search(r"dhis2 watch --resume (d2w1\.\S+)", err)
        check(token, "no resume command: %r" % first)
        lines = first.json_lines()
        check(lines[-1]["event"] == "error" and lines[-1]["kind"] == "interrupted", repr(lines[-1]))
        second = run(*(e.login() + ["--json", "watch", "--resume", token.group(1), "--poll", "0.2"]))
        check(second.rc == 0, repr(second))
        check(len([l for l in lines if l["event"] == "notification"]) >= 2, repr(first))
        rows = [l for l in lines + second.json_lines() if l["event"] == "notification" and l["level"] != "LOOP"]
        keys = [(l["time"], l.get("message")) for l in rows]
        check(len(keys) == len(set(keys)), "a row delivered twice across the resume: %r" % keys)
        check(rows[0]["message"] == "Analytics table update" and rows[-1]["completed"], repr(rows))


def main(argv):
    global DHIS2, EMULATOR
    if argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if argv[1:] == ["--list-slow"]:
        print("\n".join(c for c in CASES if c in SLOW))
        return 0
    if len(argv) != 4 or argv[3] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    DHIS2, EMULATOR = argv[1], argv[2]
    try:
        CASES[argv[3]]()
        for output in OUTPUTS:
            for secret in SECRETS:
                check(secret not in output, "a secret appeared in an output: %r" % output[:3000])
    except Skipped as e:
        print("skipped: %s" % e)
        return SKIP
    except Failure as e:
        print("FAILED: %s" % e)
        return 1
    print("passed (%d outputs scanned for secrets)" % len(OUTPUTS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
