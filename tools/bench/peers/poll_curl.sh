#!/usr/bin/env bash
# The shell peer of tools/bench: a loop of curl and jq, as a script that waits for a DHIS2 job
# does it (one curl process per poll, so one TCP connection per poll; jq prints the rows oldest
# first). tools/bench/run.py measures its CPU (this shell, curl and jq) from outside.
#
# Usage: poll_curl.sh URL JOB_TYPE UID POLLS [INTERVAL_S] [USER:PASSWORD]
set -euo pipefail
url="$1" job_type="$2" uid="$3" polls="$4" interval="${5:-2}" credentials="${6:-admin:district}"
for ((i = 0; i < polls; i++)); do
  curl -sS --fail -u "$credentials" -H 'X-Requested-With: XMLHttpRequest' \
    "$url/api/system/tasks/$job_type/$uid" | jq -c 'reverse | .[] | [.id, .time, .level, .message]' >/dev/null
  if [[ "$interval" != "0" ]] && ((i + 1 < polls)); then sleep "$interval"; fi
done
