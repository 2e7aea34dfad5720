#!/usr/bin/env bash
# Stops the MariaDB that start-mariadb.sh started from <repo>/.tmp/mariadb-PORT (never a server it only reused).
# Add --purge to delete its data directory too.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_MYSQL_PORT:-53306}"
root="$repo/.tmp/mariadb-$port"
pidfile="$root/mariadbd.pid"

if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
else
  echo "stop-mariadb: no server of ours is running from $root" >&2
fi

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$root" "$root.lock"
fi
