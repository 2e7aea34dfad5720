#!/usr/bin/env bash
# Stops the test MariaDB started by start-mariadb.sh (the data stays for the next start).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_TEST_MYSQL_PORT:-53306}"
. "$root/scripts/db/data-root.sh"
pidfile="$(started_data_dir "gatekeeper-mariadb-$port" "$root/.tmp" mariadbd.pid)/mariadbd.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
kill -9 "$pid" 2>/dev/null || true
