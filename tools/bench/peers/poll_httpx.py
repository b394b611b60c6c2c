#!/usr/bin/env python3
"""The Python peer of tools/bench: polls a job's feed with httpx the way the dhis2w client's tasks
module does (a keep-alive httpx client, each answer reversed to oldest first, rows de-duplicated by
their uid/id/time, a fixed pause between polls), and reports the CPU the polls took.

Usage: poll_httpx.py URL JOB_TYPE UID POLLS [INTERVAL_S] [USER:PASSWORD]
Prints one line of JSON like bench-poll's: mode, polls, rows, cpu_s, cpu_per_poll_us, max_rss_kb,
body_bytes. Needs httpx (Debian: python3-httpx); exits 77 without it.
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


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
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
                      "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "body_bytes": body_bytes}))


if __name__ == "__main__":
    main()
