#!/usr/bin/env bash
# Gatekeeper's main job on an embedded default, no cluster needed: start a throwaway local
# PostgreSQL 15, then plan, lint, migrate and show the status of the bundled example migrations
# (examples/shop/migrations) in a fresh database; the second migrate shows that re-runs are no-ops.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/db/start-postgres.sh)"
database=gatekeeper_demo
psql "$GATEKEEPER_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $database (FORCE)" -c "CREATE DATABASE $database"
export GATEKEEPER_DATABASE_URL="${GATEKEEPER_TEST_POSTGRES_URL%/*}/$database"

echo "building gatekeeper (scripts/publish.sh: Native AOT, a few minutes the first time)…" >&2
scripts/publish.sh .tmp/publish >&2
gatekeeper() { .tmp/publish/gatekeeper "$@"; }

dir=examples/shop/migrations
step() { printf '\n\033[1m$ gatekeeper %s\033[0m\n' "$*"; gatekeeper "$@"; }
step lint --dir "$dir"
step plan --dir "$dir" --dry-run
step migrate --dir "$dir"
step migrate --dir "$dir"
step status --dir "$dir"
