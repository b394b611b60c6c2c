#!/usr/bin/env python3
"""The Python peer of tools/bench: polls a job's feed with httpx the way the dhis2w client's tasks
module does (a keep-alive httpx client, each answer reversed to oldest first, rows de-duplicated by
their uid/id/time, a fixed pause between polls), and reports the CPU the polls took.

Usage: poll_httpx.py URL JOB_TYPE UID POLLS [INTERVAL_S] [USER:PASSWORD]
       poll_httpx.py --wait URL [SCALE] [USER:PASSWORD]
Prints one line of JSON like bench-poll's: mode, polls, rows, cpu_s, cpu_per_poll_us, max_rss_kb,
body_bytes. With --wait, like bench-wait's: it kicks off an analytics run, polls every 2 s times
SCALE until a completed row, and prints mode, returned_ms, ok, feed_requests, requests, cpu_s,
max_rss_kb. Needs httpx (Debian: python3-httpx); exits 77 without it.
"""
import json
import resource
import sys
import time

try:
    import httpx
except ImportError:
    print("poll_httpx.py: httpx is not installed (apt-get install python3-httpx)", file=sys.stderr)
    sys.exit(77)


def peak_rss_kb():
    """VmHWM: exec starts it afresh, unlike ru_maxrss (which keeps the forking parent's peak)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait(url, scale, user, password):
    """Kick-off and wait, as dhis2w's tasks module does: fixed pauses, rows reversed and de-duplicated."""
    seen = set()
    feed_requests = 0
    before = cpu_seconds()
    with httpx.Client(auth=(user, password), headers={"X-Requested-With": "XMLHttpRequest"}) as client:
        kicked = client.post(f"{url}/api/resourceTables/analytics")
        kicked.raise_for_status()
        job = kicked.json()["response"]
        path = f"{url}/api/system/tasks/{job['jobType']}/{job['id']}"
        while True:
            response = client.get(path)
            feed_requests += 1
            response.raise_for_status()
            done = None
            for row in reversed(response.json()):
                key = (row.get("uid"), row.get("id"), row.get("time"))
                if key in seen:
                    continue
                seen.add(key)
                if row.get("completed"):
                    done = row
            if done is not None:
                returned_ms = int(time.time() * 1000)
                break
            time.sleep(2.0 * scale)
    print(json.dumps({"mode": "python", "returned_ms": returned_ms, "ok": done.get("level") != "ERROR",
                      "feed_requests": feed_requests, "requests": feed_requests + 1,
                      "cpu_s": cpu_seconds() - before,
                      "max_rss_kb": peak_rss_kb()}))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--wait":
        scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
        user, _, password = (sys.argv[4] if len(sys.argv) > 4 else "admin:district").partition(":")
        wait(sys.argv[2], scale, user, password)
        return
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url, job_type, uid, polls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    interval = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    user, _, password = (sys.argv[6] if len(sys.argv) > 6 else "admin:district").partition(":")
    path = f"{url}/api/system/tasks/{job_type}/{uid}"
    seen = set()
    delivered = 0
    body_bytes = 0
    with httpx.Client(auth=(user, password), headers={"X-Requested-With": "XMLHttpRequest"}) as client:
        client.get(f"{url}/api/system/info").raise_for_status()  # connect first, as the others do
        before = cpu_seconds()
        for i in range(polls):
            response = client.get(path)
            response.raise_for_status()
            body_bytes = len(response.content)
            for row in reversed(response.json()):
                key = (row.get("uid"), row.get("id"), row.get("time"))
                if key in seen:
                    continue
                seen.add(key)
                delivered += 1
            if interval > 0 and i + 1 < polls:
                time.sleep(interval)
        cpu = cpu_seconds() - before
    print(json.dumps({"mode": "python", "polls": polls, "requests": polls, "rows": delivered, "cpu_s": cpu,
                      "cpu_per_poll_us": cpu * 1e6 / polls,
                      "max_rss_kb": peak_rss_kb(),
                      "body_bytes": body_bytes}))


if __name__ == "__main__":
    main()
