#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL 15 on 127.0.0.1 for tests and the quickstart, with
# fsync off. Prints one line for the caller to eval:
#   export GATEKEEPER_TEST_POSTGRES_URL=postgres://postgres:…@127.0.0.1:55432/postgres
# Everything else goes to stderr. Usage: eval "$(scripts/db/start-postgres.sh)"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
chosen="${GATEKEEPER_TEST_POSTGRES_PORT:-}"
password="${GATEKEEPER_TEST_POSTGRES_PASSWORD:-gatekeeper-test-pw}"
bin="${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
. "$root/scripts/db/data-root.sh"
# In memory when there is room (see data-root.sh), else outside the repository: the postgres user must be able to
# reach it, and a clone may sit under /root.
data_root="$(test_data_root "${TMPDIR:-/tmp}")"

use_port() {
  port="$1"
  data="$data_root/gatekeeper-postgres-$port"
  url="postgres://postgres:$password@127.0.0.1:$port/postgres"
}
answers() { PGPASSWORD="$password" psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc 'select 1' >/dev/null 2>&1; }
taken() { (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; }

# The default port, or the next of 20 whose listener is ours or that is free: a machine whose own server (or another
# program) holds 55432 still gets a test server. A port given in GATEKEEPER_TEST_POSTGRES_PORT is that port or nothing.
for candidate in ${chosen:-$(seq 55432 55452)}; do
  use_port "$candidate"
  if answers; then
    echo "postgres: reusing the server on 127.0.0.1:$port" >&2
    echo "export GATEKEEPER_TEST_POSTGRES_URL=$url"
    exit 0
  fi
  taken || break
  echo "postgres: another server listens on 127.0.0.1:$port and does not accept the test credentials" >&2
  if [ -n "$chosen" ] || [ "$port" = 55452 ]; then
    echo "postgres: no port for the test server; stop that server or choose a free port with GATEKEEPER_TEST_POSTGRES_PORT" >&2
    exit 1
  fi
done

[ -x "$bin/postgres" ] || { echo "postgres: PostgreSQL 15 is not installed at $bin (apt-get install -y postgresql-15)" >&2; exit 1; }

# PostgreSQL refuses to run as root: the data directory belongs to the postgres user.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
  pwfile="$(mktemp)"; printf '%s\n' "$password" >"$pwfile"; chmod 644 "$pwfile"
  as_postgres "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >&2
  rm -f "$pwfile"
fi
# A server killed without cleaning up leaves a stale pid file behind.
rm -f "$data/postmaster.pid"
as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
  -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >&2
answers || { echo "postgres: started but does not answer on 127.0.0.1:$port; see $data/server.log" >&2; exit 1; }
echo "postgres: running on 127.0.0.1:$port (data $data)" >&2
echo "export GATEKEEPER_TEST_POSTGRES_URL=$url"
