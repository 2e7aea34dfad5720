#!/usr/bin/env bash
# Process start-up of the `gatekeeper` binary (issue 13): what every CI lint and every migration Job pays.
# (1) publishes gatekeeper as the image does (scripts/publish.sh: Native AOT);
# (2) times whole processes, alternating, against floors in the same run: /bin/true (fork + exec on this machine)
#     and the native squawk binary (@squawk-cli, not the node wrapper) on the same tiny file;
# (3) a migration Job's process: `gatekeeper migrate --url-file … --dir …` (one pending migration, a fresh
#     PostgreSQL database each run) under strace, from its execve to the first SQL statement it sends, with the
#     connection (connect until the server's first ReadyForQuery) taken out; goal: within 100 ms;
# (4) writes bench/results/startup-<date>.md (a later run of the day is appended: bench/results-file.sh).
# Usage: bench/startup.sh [RUNS]   (timed runs per command, default 30; strace runs: RUNS / 3, at least 5)
# Needs: dotnet, python3, strace, npm (for squawk; left out with a note when missing), PostgreSQL 15.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
runs="${1:-30}"
trace_runs=$(( runs / 3 > 5 ? runs / 3 : 5 ))
work="$repo/.tmp/startup-bench"
tools="$repo/.tmp/tools"
date_tag="$(date -u +%Y-%m-%d)"
results="$repo/bench/results/startup-$date_tag.md"
mkdir -p "$work" "$repo/bench/results"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "publishing gatekeeper (scripts/publish.sh: Native AOT)…" >&2
"$repo/scripts/publish.sh" "$work/publish" >&2
gatekeeper="$work/publish/gatekeeper"

squawk=""
if [ ! -x "$tools/node_modules/.bin/squawk" ] && command -v npm >/dev/null; then
  npm install --prefix "$tools" squawk-cli >"$work/npm.log" 2>&1 || true
fi
squawk="$(find "$tools/node_modules/@squawk-cli" -path '*/bin/squawk' -type f 2>/dev/null | head -n 1 || true)"
[ -n "$squawk" ] && ! "$squawk" --version >/dev/null 2>&1 && squawk=""

tiny="$work/tiny"
mkdir -p "$tiny"
printf 'CREATE TABLE orders (id bigint PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now());\n' >"$tiny/V1__orders.sql"

commands=("true=/bin/true" "gatekeeper --help=$gatekeeper --help" "gatekeeper --version=$gatekeeper --version"
  "gatekeeper lint (1 file)=$gatekeeper lint --dir $tiny --dialect postgres")
[ -n "$squawk" ] && commands+=("squawk (1 file)=$squawk $tiny/V1__orders.sql")
echo "timing $runs alternating runs of each command…" >&2
timings="$(python3 "$repo/bench/startup.py" time "$runs" "${commands[@]}")"

eval "$("$repo/scripts/db/start-postgres.sh")"
admin="$GATEKEEPER_TEST_POSTGRES_URL"
port="$(echo "$admin" | sed -E 's#.*:([0-9]+)/.*#\1#')"
jobdir="$work/job"
mkdir -p "$jobdir/migrations"
printf 'CREATE TABLE orders (id bigint PRIMARY KEY);\n' >"$jobdir/migrations/V1__orders.sql"
rows=""
echo "tracing $trace_runs migration Job processes…" >&2
for i in $(seq "$trace_runs"); do
  database="gk_startup_$i"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" >/dev/null
  echo "${admin%/*}/$database" >"$jobdir/url"
  strace -f -ttt -xx -s 4096 --seccomp-bpf -e trace=execve,connect,sendto,sendmsg,recvfrom,recvmsg,read,write \
    -o "$jobdir/trace.$i" "$gatekeeper" migrate --dir "$jobdir/migrations" --url-file "$jobdir/url" >"$jobdir/out.$i" 2>&1 \
    || { cat "$jobdir/out.$i" >&2; exit 1; }
  rows="$rows$(python3 "$repo/bench/startup.py" first-sql "$jobdir/trace.$i" "$port")
"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $database" >/dev/null
done
first_statement="$(echo "$rows" | head -n 1 | cut -d' ' -f5-)"
col() { echo "$rows" | grep -v '^$' | awk -v c="$1" '{ print $c }' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
to_connect="$(col 1)"; connecting="$(col 2)"; to_sql="$(col 3)"; excluding="$(col 4)"
verdict="$(awk -v x="$excluding" 'BEGIN { print (x <= 100) ? "met" : "**not met**" }')"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

table="| process | best ms | median ms |
| --- | ---: | ---: |"
while read -r line; do
  name="${line% * *}"; rest="${line##"$name" }"
  table="$table
| \`$name\` | ${rest% *} | ${rest#* } |"
done <<<"$timings"
job="| from execve to … (median of $trace_runs, ms, under strace) | ms |
| --- | ---: |
| the connect() to PostgreSQL | $to_connect |
| the server's first ReadyForQuery (connection, TLS/auth, session start) | +$connecting |
| the first SQL statement | $to_sql |
| **the first SQL statement, connection excluded** (goal ≤ 100) | **$excluding** ($verdict) |"

echo
echo "$table"
echo
echo "$job"
echo "first statement: $first_statement"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
{
  echo "# Start-up of the gatekeeper binary ($date_tag)"
  echo
  echo "Run by \`bench/startup.sh $runs\` at $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git -C "$repo" rev-parse --short HEAD)."
  echo
  echo "- nproc: $(nproc); CPU: $cpu"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- gatekeeper: Native AOT, $(stat -c %s "$gatekeeper" | awk '{ printf "%.1f MB", $1 / 1048576 }') (scripts/publish.sh); squawk: $([ -n "$squawk" ] && "$squawk" --version || echo "not measured (npm or its platform binary missing)")"
  echo
  echo "## Whole processes"
  echo
  echo "One warm-up round, then $runs alternating rounds; wall time from spawn to exit, output discarded. \`/bin/true\` is"
  echo "the floor of starting any process here; squawk (native Rust) is the tool \`gatekeeper lint\` is held to."
  echo
  echo "$table"
  echo
  echo "## A migration Job's process"
  echo
  echo "\`gatekeeper migrate --dir DIR --url-file FILE\` with one pending migration on a fresh PostgreSQL 15 database, as the"
  echo "Job runs it, traced with \`strace -f -ttt --seccomp-bpf\` (only socket and read/write calls stop the process, so the"
  echo "trace adds little). The first statement sent after the session was ready: \`$first_statement\`."
  echo
  echo "$job"
} | write_results "$results"
echo
echo "results written to ${results#"$repo"/}"
