#!/usr/bin/env bash
# Deployment admission latency: what one `kubectl apply` of an opted-in Deployment costs in Gatekeeper's webhook —
# POST /mutate/deployments (read ConfigMap + Secret, read history, plan, stamp), the patch applied, then
# POST /validate/deployments (the mutating call's plan and reads handed over, live schema, lint, dry-run) — with 0, 1, 10 and 100 pending
# migrations on PostgreSQL 15 and MariaDB.
# The real webhook (WebhookHost) is hosted in process by bench/AdmissionBench, exactly as tests/Gatekeeper.Webhook.Tests
# does: HTTPS on loopback with a throwaway CA, KubernetesClient reading the ConfigMap and Secret from the in-process API
# server double, a real database. Pending migrations are generated DDL (CREATE TABLE, ADD COLUMN, CREATE INDEX
# [CONCURRENTLY], foreign keys) that passes lint, so the dry-run really runs.
# Usage: bench/deployment-admission.sh [REQUESTS] [CASE_SECONDS]   (timed applies per case, default 200; time budget
#        per case, default 20 s, after which a case stops once it has 10 applies)
# Ports: GATEKEEPER_BENCH_POSTGRES_PORT (default 55611), GATEKEEPER_BENCH_MYSQL_PORT (default 53611).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
requests="${1:-200}"
case_seconds="${2:-20}"
applied="${GATEKEEPER_BENCH_APPLIED:-100}"
export GATEKEEPER_TEST_POSTGRES_PORT="${GATEKEEPER_BENCH_POSTGRES_PORT:-55611}"
export GATEKEEPER_TEST_MYSQL_PORT="${GATEKEEPER_BENCH_MYSQL_PORT:-53611}"
# Its servers keep their data on disk, as a real server does (the test suites' go to memory when there is room: see
# scripts/db/data-root.sh); GATEKEEPER_BENCH_DATA_ROOT chooses another directory.
export GATEKEEPER_TEST_DATA_ROOT="${GATEKEEPER_BENCH_DATA_ROOT:-${TMPDIR:-/tmp}/gatekeeper-bench-data}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
date_tag="$(date -u +%Y-%m-%d)"
results="$repo/bench/results/deployment-admission-$date_tag.md"
work="$repo/.tmp/admission-bench"
mkdir -p "$work" "$repo/bench/results"
command_line="bench/deployment-admission.sh${*:+ $*}"

# Stop only the servers this script started (a server already answering on the port is reused and left running).
started=()
cleanup() {
  for engine in "${started[@]}"; do "$repo/scripts/db/stop-$engine.sh" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
start() { # engine script
  local out
  out="$("$repo/scripts/db/start-$1.sh" 2>"$work/start-$1.log")" || { cat "$work/start-$1.log" >&2; exit 1; }
  grep -q reusing "$work/start-$1.log" || started+=("$1")
  eval "$out"
}

echo "building bench/AdmissionBench (Release)…" >&2
dotnet build "$repo/bench/AdmissionBench" -c Release -v q -nologo >&2
bench_dll="$repo/bench/AdmissionBench/bin/Release/net10.0/AdmissionBench.dll"

start postgres
start mariadb

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
table_file="$work/table.md"
: >"$table_file"
for engine in postgres mysql; do
  echo "== $engine ==" >&2
  dotnet "$bench_dll" --engine "$engine" --pending 0,1,10,100 --applied "$applied" --requests "$requests" --warmup 20 \
    --case-seconds "$case_seconds" --min-requests 10 --markdown "$table_file" >/dev/null
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
# Both engines in one table: the second header is dropped.
table="$(awk 'NF && (NR <= 2 || !/^\| (engine|---)/)' "$table_file")"
echo
echo "$table"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
pg_version="$(PGPASSWORD=gatekeeper-test-pw psql -h 127.0.0.1 -p "$GATEKEEPER_TEST_POSTGRES_PORT" -U postgres -d postgres -qAtc 'show server_version')"
my_version="$(mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$GATEKEEPER_TEST_MYSQL_PORT" -uroot -pgatekeeper-test-pw -N -e 'select version()')"
{
  echo "# Deployment admission latency ($date_tag)"
  echo
  echo "Run by \`$command_line\` at $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git -C "$repo" rev-parse --short HEAD)."
  echo
  echo "- nproc: $(nproc); CPU: $cpu"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- .NET: $(dotnet --version); PostgreSQL $pg_version; MariaDB $my_version (both local, fsync off, data on disk ($GATEKEEPER_TEST_DATA_ROOT), otherwise as scripts/db/start-*.sh start them)"
  echo "- webhook: hosted in process (WebhookHost, as tests/Gatekeeper.Webhook.Tests), HTTPS on loopback, one keep-alive client connection like the API server's;"
  echo "  migrations from a ConfigMap and the URL from a Secret, both read through KubernetesClient from the in-process API server double"
  echo "- database: $applied generated Flyway migrations applied (by the migration runner, as the Job would); the ConfigMap holds those plus the pending ones"
  echo
  echo "One apply = the AdmissionReview UPDATE to /mutate/deployments, the returned patch applied, the UPDATE to /validate/deployments;"
  echo "times are client-side (request sent to response read), n timed applies after warm-up. \"new plan each apply\": the newest pending file"
  echo "changes before every apply (a new release), so the plan is new and the dry-run really runs; \"same plan again\": the plan and its"
  echo "successful dry-run come from the webhook's plan cache (a re-apply, or the validating step after the mutating step)."
  echo "Span columns: mean milliseconds per apply inside the webhook's own trace spans (\`plan\` runs in the mutating call, whose plan and reads the validating call takes over; \`dry-run\` in the validating one)."
  echo "Goals (issue 7): nothing pending ≤ 10 ms at p50; 100 pending ≤ 1 s. Judged on the whole apply (both calls)."
  echo
  echo "$table"
} | write_results "$results"
echo
echo "results written to ${results#"$repo"/}"
