#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL 15 on 127.0.0.1 for Gatekeeper's tests and prints the one line
#   export GATEKEEPER_TEST_POSTGRES_URL=postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres
# so a caller can `eval "$(scripts/db/start-postgres.sh)"`. Everything else goes to stderr.
#
# Idempotent: when a server already answers on the port and accepts the credentials, it is reused as is.
# Data lives in <repo>/.tmp/postgres-PORT (gitignored); fsync is off because the data is disposable.
# Environment: GATEKEEPER_PG_PORT (55432), GATEKEEPER_PG_PASSWORD, GATEKEEPER_PG_BIN (/usr/lib/postgresql/15/bin).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_PG_PORT:-55432}"
password="${GATEKEEPER_PG_PASSWORD:-gatekeeper-test-pw}"
bin="${GATEKEEPER_PG_BIN:-/usr/lib/postgresql/15/bin}"
root="$repo/.tmp/postgres-$port"
data="$root/data"

say() { echo "start-postgres: $*" >&2; }

[ -x "$bin/postgres" ] || { say "no PostgreSQL server binaries in $bin (install postgresql-15 or set GATEKEEPER_PG_BIN)"; exit 1; }

# PostgreSQL refuses to run as root, so every server-side command runs as the postgres user.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

answers() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; }

accepts_credentials() {
  PGPASSWORD="$password" PGCONNECT_TIMEOUT=3 "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1
}

print_url() {
  echo "export GATEKEEPER_TEST_POSTGRES_URL=postgres://postgres:${password}@127.0.0.1:${port}/postgres"
}

mkdir -p "$root"
# Two callers starting at once (parallel test runs) must not both run initdb.
exec 9>"$root.lock"
flock -w 60 9 || { say "timed out waiting for $root.lock"; exit 1; }

if answers; then
  if accepts_credentials; then
    say "reusing the PostgreSQL server already answering on 127.0.0.1:$port"
    print_url
    exit 0
  fi
  say "a server answers on 127.0.0.1:$port but refuses user postgres with the test password; stop it or set GATEKEEPER_PG_PORT"
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then chown postgres: "$root"; fi

if [ ! -s "$data/PG_VERSION" ]; then
  say "initialising $data"
  rm -rf "$data"
  pwfile="$root/pwfile"
  printf '%s\n' "$password" >"$pwfile"
  chmod 600 "$pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pwfile"; fi
  # Host connections need the password (scram) so wrong-password tests mean something; the local socket trusts.
  as_postgres "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$root/initdb.log" 2>&1 \
    || { say "initdb failed; see $root/initdb.log"; exit 1; }
  rm -f "$pwfile"
fi

say "starting PostgreSQL on 127.0.0.1:$port (data $data)"
as_postgres "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >&2 9>&- || { say "the server did not start; see $root/server.log"; exit 1; }

for _ in $(seq 1 100); do
  if answers && accepts_credentials; then
    print_url
    exit 0
  fi
  sleep 0.1
done
say "the server started but does not accept the test credentials; see $root/server.log"
exit 1
