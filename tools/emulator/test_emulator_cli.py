#!/usr/bin/env python3
"""Drives the dhis2-emulator program as a user would (python3 standard library only).

Usage: test_emulator_cli.py PATH/TO/dhis2-emulator CASE

Cases:
  serve                start on port 0, read the printed URL and credentials, GET
                       /api/system/info with Basic auth and /api/me with the printed token,
                       stop with SIGINT: exit 0 within a few seconds
  sigterm_and_options  --context-path, several --user and --token, --speed, --version, --compress; SIGTERM
  tls                  --tls CERT KEY with a certificate from the openssl command (exit 77,
                       "skipped", when there is no openssl)
  bad_arguments        every kind of bad command line: exit 2, the message and the usage on stderr
  help                 --help and -h: the usage on stdout, exit 0
  port_in_use          a port another socket listens on: exit 1 with a message

Exit status: 0 passed, 1 failed, 77 skipped.
"""

import base64
import gzip
import json
import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

SKIP = 77
STARTUP_TIMEOUT = 15.0  # seconds until the URL line must appear (generous for sanitizer builds)
STOP_TIMEOUT = 5.0      # seconds from the signal to the exit

# Upstream's PAT fixtures (dhis2-wire.md §6.2): valid V2 and V1 tokens.
FIXTURE_V2 = "d2p_iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa051Mei"
FIXTURE_V1 = "d2pat_e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O50174669582"

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def v2_checksum_ok(token):
    """DHIS2's V2 rule: CRC32 of the 44-character secret plus 4 NUL bytes, in 6 base62 digits."""
    if not re.fullmatch(r"d2p_[A-Za-z0-9]{50}", token):
        return False
    secret, checksum = token[4:48], token[48:]
    crc = zlib.crc32(secret.encode("ascii") + b"\0" * 4)
    digits = ""
    for _ in range(6):
        digits = BASE62[crc % 62] + digits
        crc //= 62
    return digits == checksum


class Emulator:
    """A running dhis2-emulator: its output lines, and what it printed at startup."""

    def __init__(self, program, args):
        self.process = subprocess.Popen(
            [program] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stdout = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = None
        self.version = None
        self.speed = None
        self.users = []   # (name, password)
        self.tokens = []  # token
        self._read_banner()

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_banner(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            check(remaining > 0, "no 'Stop with' line within %.0f s; stdout so far: %r" % (STARTUP_TIMEOUT, self.stdout))
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.process.wait(timeout=STOP_TIMEOUT)
                raise Failure("the emulator exited (%s) before it was ready; stdout %r, stderr %r"
                              % (self.process.returncode, self.stdout, self.process.stderr.read()))
            self.stdout.append(line)
            key, _, value = line.partition(": ")
            if key == "url":
                self.url = value
            elif key == "version":
                self.version = value
            elif key == "speed":
                self.speed = value
            elif key == "user":
                name, _, password = value.partition(":")
                self.users.append((name, password))
            elif key == "token":
                self.tokens.append(value.split(" ")[0])
            elif line.startswith("Stop with"):
                break
        check(self.url is not None, "no url line in %r" % self.stdout)

    def stop(self, signal_number):
        """Sends the signal; returns (exit code, seconds it took, the rest of stdout)."""
        start = time.monotonic()
        self.process.send_signal(signal_number)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("still running %.0f s after signal %d" % (STOP_TIMEOUT, signal_number))
        elapsed = time.monotonic() - start
        rest = []
        while True:
            line = self.lines.get(timeout=STOP_TIMEOUT)
            if line is None:
                break
            rest.append(line)
        return code, elapsed, rest

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def get(url, headers, context=None):
    """(status, parsed JSON body or None, raw body) of a GET that does not follow redirects."""
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            body = response.read().decode("utf-8")
            status = response.status
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        status = error.code
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return status, parsed, body


def raw_get(url, headers):
    """(Content-Encoding, raw body bytes) of a GET; urllib decodes no content coding."""
    request = urllib.request.Request(url, headers=headers, method="GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Encoding"), response.read()


def basic(name, password):
    credentials = base64.b64encode(("%s:%s" % (name, password)).encode("utf-8")).decode("ascii")
    return {"Authorization": "Basic " + credentials, "X-Requested-With": "XMLHttpRequest"}


def api_token(token):
    return {"Authorization": "ApiToken " + token, "X-Requested-With": "XMLHttpRequest"}


def run_to_exit(program, args, timeout=10):
    result = subprocess.run([program] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=timeout)
    return result.returncode, result.stdout, result.stderr


# ---- cases -------------------------------------------------------------------------------------

def case_serve(program):
    emulator = Emulator(program, ["--port", "0", "--version", "2.41.4"])
    try:
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", emulator.url)
        check(match and int(match.group(1)) > 0, "the URL names the real port: %r" % emulator.url)
        check(emulator.version == "2.41.4", "version line: %r" % emulator.version)
        check(emulator.speed == "1", "default speed is real time: %r" % emulator.speed)
        check(emulator.users == [("admin", "district")], "default user: %r" % emulator.users)
        check(len(emulator.tokens) == 1, "one minted token: %r" % emulator.tokens)
        token = emulator.tokens[0]
        check(v2_checksum_ok(token), "the minted token is a V2 PAT with DHIS2's checksum: %r" % token)

        name, password = emulator.users[0]
        status, info, body = get(emulator.url + "/api/system/info", basic(name, password))
        check(status == 200, "system/info with Basic auth: %d %s" % (status, body[:200]))
        check(info["version"] == "2.41.4", "system/info version: %r" % info.get("version"))

        status, me, body = get(emulator.url + "/api/me", api_token(token))
        check(status == 200, "/api/me with the printed token: %d %s" % (status, body[:200]))
        check(me["username"] == "admin", "the token belongs to the first user: %r" % me.get("username"))

        status, _, _ = get(emulator.url + "/api/system/info", basic(name, "wrong"))
        check(status == 401, "a wrong password gives 401, got %d" % status)

        encoding, _ = raw_get(emulator.url + "/api/me", dict(basic(name, password), **{"Accept-Encoding": "gzip"}))
        check(encoding is None, "without --compress nothing is compressed: %r" % encoding)

        code, elapsed, rest = emulator.stop(signal.SIGINT)
        check(code == 0, "exit code after SIGINT: %r" % code)
        check(any("stopped (SIGINT)" in line for line in rest), "says it stopped: %r" % rest)
        print("stopped %.2f s after SIGINT" % elapsed)
    finally:
        emulator.kill()


def case_sigterm_and_options(program):
    emulator = Emulator(program, [
        "--port=0", "--version", "2.43.1", "--context-path", "/dhis", "--speed", "60",
        "--user", "alice:pa:ss", "--user", "bob:b0b", "--token", FIXTURE_V2, "--token", FIXTURE_V1, "--compress"])
    try:
        check(re.fullmatch(r"http://127\.0\.0\.1:\d+/dhis", emulator.url), "the URL has the context path: %r" % emulator.url)
        check(emulator.version == "2.43.1", "version line: %r" % emulator.version)
        check(emulator.speed == "60", "speed line: %r" % emulator.speed)
        check(emulator.users == [("alice", "pa:ss"), ("bob", "b0b")], "users: %r" % emulator.users)
        check(emulator.tokens == [FIXTURE_V2, FIXTURE_V1], "the given tokens, none minted: %r" % emulator.tokens)

        for name, password in emulator.users:
            status, me, body = get(emulator.url + "/api/me", basic(name, password))
            check(status == 200 and me["username"] == name, "Basic %s: %d %s" % (name, status, body[:200]))
        status, _, _ = get(emulator.url + "/api/me", basic("admin", "district"))
        check(status == 401, "--user replaces the default admin user: %d" % status)
        for token in emulator.tokens:
            status, me, body = get(emulator.url + "/api/me", api_token(token))
            check(status == 200 and me["username"] == "alice", "token %s...: %d %s" % (token[:8], status, body[:200]))
        status, info, _ = get(emulator.url + "/api/system/info", api_token(FIXTURE_V2))
        check(status == 200 and info["version"] == "2.43.1", "system/info: %d %r" % (status, info))
        status, _, _ = get(emulator.url.rsplit("/dhis", 1)[0] + "/api/system/info", basic("alice", "pa:ss"))
        check(status == 404, "nothing outside the context path: %d" % status)
        gzip_headers = dict(basic("alice", "pa:ss"), **{"Accept-Encoding": "gzip"})
        encoding, body = raw_get(emulator.url + "/api/system/info", gzip_headers)
        check(encoding == "gzip", "--compress gzips JSON for a client that accepts it: %r" % encoding)
        check(json.loads(gzip.decompress(body))["version"] == "2.43.1", "the gzip body decodes to system/info")

        code, elapsed, rest = emulator.stop(signal.SIGTERM)
        check(code == 0, "exit code after SIGTERM: %r" % code)
        check(any("stopped (SIGTERM)" in line for line in rest), "says it stopped: %r" % rest)
        print("stopped %.2f s after SIGTERM" % elapsed)
    finally:
        emulator.kill()


def case_tls(program):
    openssl = shutil.which("openssl")
    if openssl is None:
        print("skipped: no openssl command to make a certificate")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="dhis2-emulator-tls-") as directory:
        cert = os.path.join(directory, "cert.pem")
        key = os.path.join(directory, "key.pem")
        made = subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if made.returncode != 0:
            print("skipped: openssl could not make a certificate: " + made.stderr)
            return SKIP
        emulator = Emulator(program, ["--port", "0", "--tls", cert, key])
        try:
            check(re.fullmatch(r"https://127\.0\.0\.1:\d+", emulator.url), "an https URL: %r" % emulator.url)
            context = ssl.create_default_context(cafile=cert)
            name, password = emulator.users[0]
            status, info, body = get(emulator.url + "/api/system/info", basic(name, password), context)
            check(status == 200 and info["version"] == "2.42.1", "system/info over TLS: %d %s" % (status, body[:200]))
            code, _, _ = emulator.stop(signal.SIGINT)
            check(code == 0, "exit code after SIGINT: %r" % code)
        finally:
            emulator.kill()

    code, _, err = run_to_exit(program, ["--port", "0", "--tls", "/nonexistent/cert.pem", "/nonexistent/key.pem"])
    check(code == 1, "an unreadable certificate: exit %r, stderr %r" % (code, err))
    check("cannot start" in err and "/nonexistent/cert.pem" in err, "names the certificate: %r" % err)


def case_bad_arguments(program):
    bad_token = FIXTURE_V2[:-1] + ("A" if FIXTURE_V2[-1] != "A" else "B")
    cases = [
        (["--bogus"], 'unknown option "--bogus"'),
        (["serve"], 'unknown option "serve"'),
        (["--version", "9.9"], '--version: the emulator does not know DHIS2 version "9.9"'),
        (["--version", "2.37.2"], '--version: the emulator does not know DHIS2 version "2.37.2"'),
        (["--version=2.44.0"], '--version: the emulator does not know DHIS2 version "2.44.0"'),
        (["--port", "70000"], '--port: "70000" is not a port number'),
        (["--port", "-1"], '--port: "-1" is not a port number'),
        (["--port", "80x"], '--port: "80x" is not a port number'),
        (["--port"], "--port needs a value"),
        (["--user", "admin"], "--user: expected NAME:PASSWORD"),
        (["--user", ":secret"], "--user: the user name before ':' must not be empty"),
        (["--token", "d2p_tooShort"], "--token: a V2 personal access token has 54 characters"),
        (["--token", bad_token], "--token: the personal access token's checksum does not match"),
        (["--token", "not-a-pat"], '--token: a DHIS2 personal access token starts with "d2p_"'),
        (["--speed", "-1"], '--speed: "-1" is not a number >= 0'),
        (["--speed", "fast"], '--speed: "fast" is not a number >= 0'),
        (["--tls", "cert.pem"], "--tls needs two values"),
        (["--context-path", "dhis"], '--context-path: "dhis" is not a context path'),
        (["--context-path", "/dhis/"], '--context-path: "/dhis/" is not a context path'),
        (["--host", ""], "--host: the address must not be empty"),
    ]
    failures = []
    for args, expected in cases:
        code, out, err = run_to_exit(program, args)
        problems = []
        if code != 2:
            problems.append("exit %r, not 2" % code)
        if ("dhis2-emulator: " + expected) not in err:
            problems.append("stderr lacks %r" % expected)
        if "Usage: dhis2-emulator" not in err:
            problems.append("no usage on stderr")
        if out:
            problems.append("stdout not empty: %r" % out)
        for secret in (bad_token, "d2p_tooShort"):
            if secret in args and secret in err:
                problems.append("the message quotes the token")
        if problems:
            failures.append("%r: %s\n  stderr: %s" % (args, "; ".join(problems), err.strip().splitlines()[:1]))
    check(not failures, "bad command lines:\n" + "\n".join(failures))


def case_help(program):
    for flag in ("--help", "-h"):
        code, out, err = run_to_exit(program, ["--port", "0", flag])
        check(code == 0, "%s: exit %r" % (flag, code))
        check(out.startswith("Usage: dhis2-emulator"), "%s: usage on stdout: %r" % (flag, out[:80]))
        for option in ("--port", "--host", "--version", "--tls", "--speed", "--user", "--token", "--context-path"):
            check(option in out, "%s: the usage mentions %s" % (flag, option))
        check(err == "", "%s: nothing on stderr: %r" % (flag, err))


def case_port_in_use(program):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = run_to_exit(program, ["--port", str(port)])
    check(code == 1, "a taken port: exit %r (stdout %r, stderr %r)" % (code, out, err))
    check("cannot start" in err and str(port) in err, "the message names the port: %r" % err)


CASES = {
    "serve": case_serve,
    "sigterm_and_options": case_sigterm_and_options,
    "tls": case_tls,
    "bad_arguments": case_bad_arguments,
    "help": case_help,
    "port_in_use": case_port_in_use,
}


def main(argv):
    if len(argv) != 3 or argv[2] not in CASES:
        print("usage: test_emulator_cli.py PATH/TO/dhis2-emulator {%s}" % ",".join(CASES), file=sys.stderr)
        return 2
    try:
        result = CASES[argv[2]](argv[1])
    except Failure as failure:
        print("FAILED: %s" % failure, file=sys.stderr)
        return 1
    if result == SKIP:
        return SKIP
    print("passed: " + argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
