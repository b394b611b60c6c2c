#!/usr/bin/env python3
"""A watch killed in one process and resumed from its token in another (python3 standard library only).

Usage: resume_example.py TASK_RESUME --emulator PATH [--speed X] [--kill-after N]

Starts `PATH --port 0 --speed X` (dhis2-emulator), runs TASK_RESUME (examples/task_resume) with a
fresh state file, kills it with SIGKILL once it has printed N notifications, and runs it again on
the same state file. Across the two processes every notification the first one saved as
delivered (the position in its last saved token) plus every one the second printed must appear
exactly once, in order, and the run must end with the outcome that an uninterrupted watch of a
second, identical job reports; both must show the same INFO rows.

Exit status: 0 passed, 1 failed, 2 usage error.
"""

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_example import EXAMPLE_TIMEOUT, Emulator, Failure, example_environment  # noqa: E402

ROW = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+)  ([A-Z]+)  (.*)$")


def rows_of(lines):
    return [line for line in lines if ROW.match(line)]


def outcome_of(lines):
    for line in lines:
        if line.startswith("outcome: "):
            return line.split(" ")[1]
    raise Failure("no outcome line in %r" % lines[-5:])


def delivered_in(token):
    """The row count of a watcher's resume token (d2w1.<base64url JSON>.<crc>)."""
    payload = token.split(".")[1]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return body.get("p", {}).get("n", 0)


def run_to_end(program, env, state):
    done = subprocess.run([program, state], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=EXAMPLE_TIMEOUT)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.stdout.splitlines()


def run_and_kill(program, env, state, kill_after):
    process = subprocess.Popen([program, state], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + EXAMPLE_TIMEOUT
    while len(rows_of(lines)) < kill_after:
        line = process.stdout.readline()
        if not line:
            raise Failure("task_resume ended before printing %d notifications: %r" % (kill_after, lines))
        lines.append(line.rstrip("\n"))
        if time.monotonic() > deadline:
            raise Failure("task_resume printed too slowly: %r" % lines)
    process.send_signal(signal.SIGKILL)
    # The rest through the same buffered reader: communicate() reads the pipe itself and would
    # drop what readline() already buffered (the rows printed just before the kill).
    rest = process.stdout.read()
    process.stderr.read()
    process.wait(timeout=EXAMPLE_TIMEOUT)
    lines += rest.splitlines()
    sys.stdout.write("\n".join(lines) + "\n[killed]\n")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task_resume")
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--speed", default="40")
    parser.add_argument("--kill-after", type=int, default=4)
    args = parser.parse_args()

    emulator = None
    try:
        emulator = Emulator(args.emulator, args.speed)
        env = example_environment(emulator.url, "basic", emulator)
        with tempfile.TemporaryDirectory() as work:
            state = os.path.join(work, "watch.state")
            first = run_and_kill(args.task_resume, env, state, args.kill_after)
            with open(state) as f:
                token = f.read().strip()
            saved = delivered_in(token)
            if saved < 1:
                raise Failure("the first process saved no delivered row in %r" % token)
            second = run_to_end(args.task_resume, env, state)
            if not second or not second[0].startswith("resuming ") or ("after %d notification" % saved) not in second[0]:
                raise Failure("the second process did not resume after %d rows: %r" % (saved, second[:1]))
            combined = rows_of(first)[:saved] + rows_of(second)
            if len(set(combined)) != len(combined):
                raise Failure("a notification was delivered twice across the two processes: %r" % combined)
            times = [ROW.match(line).group(1) for line in combined]
            if times != sorted(times):
                raise Failure("notifications out of order: %r" % combined)
            if os.path.exists(state):
                raise Failure("the state file is still there after the job ended")

            reference = run_to_end(args.task_resume, env, os.path.join(work, "reference.state"))
            if outcome_of(second) != outcome_of(reference):
                raise Failure("resumed: %s, uninterrupted: %s" % (outcome_of(second), outcome_of(reference)))

            def stages(rows):  # the INFO rows, without the run's own duration
                return [re.sub(r"\d+:\d\d:\d\d\.\d+", "D", ROW.match(r).group(3)) for r in rows if ROW.match(r).group(2) == "INFO"]

            if stages(combined) != stages(rows_of(reference)):
                raise Failure("the INFO rows differ: resumed %r, uninterrupted %r" % (stages(combined), stages(rows_of(reference))))
        emulator.stop()
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if emulator:
            emulator.stop(check=False)
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
