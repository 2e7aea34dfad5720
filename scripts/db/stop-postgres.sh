#!/usr/bin/env bash
# Stops the test PostgreSQL started by start-postgres.sh (the data stays for the next start).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_TEST_POSTGRES_PORT:-55432}"
. "$root/scripts/db/data-root.sh"
data="$(started_data_dir "gatekeeper-postgres-$port" "${TMPDIR:-/tmp}" postmaster.pid)"
[ -f "$data/postmaster.pid" ] || exit 0
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$data" -m fast stop >&2
else /usr/lib/postgresql/15/bin/pg_ctl -D "$data" -m fast stop >&2; fi
