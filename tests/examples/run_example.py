#!/usr/bin/env python3
"""Runs an example program against the dhis2-emulator, as a user would (python3 standard library only).

Usage: run_example.py EXAMPLE (--emulator PATH [--speed X] | --closed-port)
                      [--credentials basic|token|wrong-password] [--exit-code N] --stdout REGEX...

--emulator PATH starts `PATH --port 0 --speed X` (X: 1 unless --speed says otherwise; e.g. 200
makes a 53-second analytics run take a quarter of a second) and reads the `url:`, `user:` and `token:` lines
it prints. EXAMPLE then runs with DHIS2_URL and either DHIS2_USERNAME/DHIS2_PASSWORD (basic,
wrong-password) or DHIS2_TOKEN (token) in its environment. Its exit code must be N (default 0) and
its stdout must match every REGEX (re.search, multiline: ^ and $ match at each line). In a REGEX,
{url} stands for the emulator's URL, escaped. The emulator is then stopped with SIGINT.

--closed-port starts no emulator: DHIS2_URL points at a loopback port on which a socket is bound
but does not listen, so every connection is refused. The credentials are then admin/district.

--tls makes a throw-away self-signed certificate for localhost and 127.0.0.1 (with the openssl
command), serves HTTPS with it, and points DHIS2_URL at https://localhost:PORT; the example trusts
it as a user trusts a private CA without changing the program: SSL_CERT_FILE names it.

--valgrind PATH runs the example under valgrind (memcheck: any error, or a definite or indirect
leak, fails the run).

Exit status: 0 passed, 1 failed, 2 usage error.
"""

import argparse
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

STARTUP_TIMEOUT = 15.0  # seconds until the emulator must be ready (generous for sanitizer builds)
EXAMPLE_TIMEOUT = 60.0  # seconds the example may run
STOP_TIMEOUT = 10.0     # seconds from SIGINT to the emulator's exit


class Failure(Exception):
    pass


class Emulator:
    """A running dhis2-emulator and what it printed at startup."""

    def __init__(self, program, speed="1", tls=None):
        extra = ["--tls", tls[0], tls[1]] if tls else []
        self.process = subprocess.Popen([program, "--port", "0", "--speed", speed] + extra,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.banner = []
        self.url = None
        self.users = []   # (name, password)
        self.tokens = []
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self._read_banner()
        except BaseException:
            self.stop(check=False)
            raise

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_banner(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("the emulator was not ready within %.0f s; stdout so far: %r" % (STARTUP_TIMEOUT, self.banner))
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.process.wait(timeout=STOP_TIMEOUT)
                raise Failure("the emulator exited (%s) before it was ready; stdout %r, stderr %r"
                              % (self.process.returncode, self.banner, self.process.stderr.read()))
            self.banner.append(line)
            key, _, value = line.partition(": ")
            if key == "url":
                self.url = value
            elif key == "user":
                name, _, password = value.partition(":")
                self.users.append((name, password))
            elif key == "token":
                self.tokens.append(value.split(" ")[0])  # "d2p_... (user admin)"
            elif line.startswith("Stop with"):
                break
        if self.url is None or not self.users or not self.tokens:
            raise Failure("the emulator's banner lacks a url, user or token line: %r" % self.banner)

    def stop(self, check=True):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                if check:
                    raise Failure("the emulator did not stop within %.0f s of SIGINT" % STOP_TIMEOUT)
                return
        if check and self.process.returncode != 0:
            raise Failure("the emulator exited with %d after SIGINT; stderr %r"
                          % (self.process.returncode, self.process.stderr.read()))


def refusing_port():
    """A loopback socket that is bound but not listening: connections to its port are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def make_certificate(directory):
    """A self-signed certificate for localhost and 127.0.0.1, valid for a day: (cert, key)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    done = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=dhis2-cpp example server",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                           "-addext", "basicConstraints=critical,CA:FALSE"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise Failure("openssl could not make a certificate: %s" % done.stderr)
    return cert, key


def example_environment(url, credentials, emulator):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHIS2_")}
    env["DHIS2_URL"] = url
    if credentials == "token":
        env["DHIS2_TOKEN"] = emulator.tokens[0] if emulator else "d2p_" + "0" * 50
    else:
        name, password = emulator.users[0] if emulator else ("admin", "district")
        env["DHIS2_USERNAME"] = name
        env["DHIS2_PASSWORD"] = password + "-wrong" if credentials == "wrong-password" else password
    return env


VALGRIND_ERROR = 99


def run_example(program, env, expected_exit, patterns, valgrind=None):
    command = [program]
    timeout = EXAMPLE_TIMEOUT
    if valgrind:
        command = [valgrind, "-q", "--error-exitcode=%d" % VALGRIND_ERROR, "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"] + command
        timeout *= 3  # memcheck runs a program 20 to 50 times slower
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure("%s did not finish within %.0f s; stdout %r" % (program, timeout, e.stdout))
    if valgrind and done.returncode == VALGRIND_ERROR:
        sys.stderr.write(done.stderr)
        raise Failure("valgrind found memory errors or leaks in %s" % os.path.basename(program))
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != expected_exit:
        raise Failure("%s exited with %d, expected %d" % (os.path.basename(program), done.returncode, expected_exit))
    for pattern in patterns:
        if not re.search(pattern, done.stdout, re.MULTILINE):
            raise Failure("the output of %s does not match %r" % (os.path.basename(program), pattern))


def main():
    parser = argparse.ArgumentParser(description="Runs an example program against the dhis2-emulator.")
    parser.add_argument("example", help="path to the example program")
    server = parser.add_mutually_exclusive_group(required=True)
    server.add_argument("--emulator", metavar="PATH", help="path to the dhis2-emulator program to run the example against")
    server.add_argument("--closed-port", action="store_true", help="point DHIS2_URL at a port that refuses connections")
    parser.add_argument("--speed", default="1", metavar="X",
                        help="the emulated clock speed passed to the emulator (default 1, real time)")
    parser.add_argument("--credentials", choices=["basic", "token", "wrong-password"], default="basic")
    parser.add_argument("--exit-code", type=int, default=0, help="the exit code the example must return")
    parser.add_argument("--stdout", action="append", required=True, metavar="REGEX",
                        help="a regex its stdout must match (repeatable); {url} is the emulator's URL")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS on localhost with a throw-away certificate the example trusts")
    parser.add_argument("--valgrind", metavar="PATH", help="run the example under this valgrind (memcheck)")
    args = parser.parse_args()
    if args.tls and args.closed_port:
        parser.error("--tls needs --emulator")

    emulator = None
    closed = None
    certificates = tempfile.TemporaryDirectory(prefix="dhis2cpp-example-") if args.tls else None
    try:
        if args.closed_port:
            if args.speed != "1":
                parser.error("--speed needs --emulator")
            closed = refusing_port()
            url = "http://127.0.0.1:%d" % closed.getsockname()[1]
        else:
            tls = make_certificate(certificates.name) if args.tls else None
            emulator = Emulator(args.emulator, args.speed, tls)
            url = emulator.url
            if tls:  # https://127.0.0.1:PORT: connect by the name the certificate gives first
                url = "https://localhost:" + url.rsplit(":", 1)[1]
        patterns = [p.replace("{url}", re.escape(url)) for p in args.stdout]
        env = example_environment(url, args.credentials, emulator)
        if args.tls:
            env["SSL_CERT_FILE"] = tls[0]
        run_example(args.example, env, args.exit_code, patterns, args.valgrind)
        if emulator:
            emulator.stop()
    except Failure as e:
        print("FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if emulator:
            emulator.stop(check=False)
        if closed:
            closed.close()
        if certificates:
            certificates.cleanup()
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
