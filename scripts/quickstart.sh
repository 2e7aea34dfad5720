#!/usr/bin/env bash
# Gatekeeper's main job on an embedded default, no cluster needed: start a throwaway local
# PostgreSQL 15, then plan, lint, migrate and show the status of the bundled example migrations
# (examples/shop/migrations). Run it twice: the second migrate is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/db/start-postgres.sh)"
database=gatekeeper_demo
psql "$GATEKEEPER_TEST_POSTGRES_URL" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
  || psql "$GATEKEEPER_TEST_POSTGRES_URL" -qc "CREATE DATABASE $database"
export GATEKEEPER_DATABASE_URL="${GATEKEEPER_TEST_POSTGRES_URL%/*}/$database"

echo "building gatekeeper…" >&2
dotnet build src/Gatekeeper -c Release -v quiet -nologo -clp:NoSummary >&2
gatekeeper() { dotnet src/Gatekeeper/bin/Release/net10.0/gatekeeper.dll "$@"; }

dir=examples/shop/migrations
set -x
gatekeeper plan --dir "$dir"
gatekeeper migrate --dir "$dir"
gatekeeper status --dir "$dir"
