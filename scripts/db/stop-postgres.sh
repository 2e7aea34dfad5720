#!/usr/bin/env bash
# Stops the PostgreSQL that start-postgres.sh started from <repo>/.tmp/postgres-PORT (never a server it only reused).
# Add --purge to delete its data directory too.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_PG_PORT:-55432}"
bin="${GATEKEEPER_PG_BIN:-/usr/lib/postgresql/15/bin}"
root="$repo/.tmp/postgres-$port"
data="$root/data"

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -f "$data/postmaster.pid" ]; then
  as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
else
  echo "stop-postgres: no server of ours is running from $data" >&2
fi

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$root" "$root.lock"
fi
