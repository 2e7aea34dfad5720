#!/usr/bin/env bash
# Peak memory (RSS) and time of `gatekeeper lint` on one huge generated migration, for each output format.
# Issue 17.13's goal: a 50 MB file lints within 1 GB of memory. Numbers only: nothing here passes or fails on them.
# Usage: bench/lint-memory.sh [MEGABYTES]        (default 50)
#   GATEKEEPER_BINARY=path  use this binary instead of publishing one (scripts/publish.sh: Native AOT, as shipped)
# Writes the table to stdout and to bench/results/lint-memory-<date>.md (a later run of the day is appended).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
megabytes="${1:-50}"
work="$repo/.tmp/lint-memory"
mkdir -p "$work" "$repo/bench/results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ -x /usr/bin/time ] || { echo "bench/lint-memory.sh needs GNU time (/usr/bin/time; Debian package time)." >&2; exit 2; }

gatekeeper="${GATEKEEPER_BINARY:-}"
if [ -z "$gatekeeper" ]; then
  "$repo/scripts/publish.sh" "$work/publish" >&2
  gatekeeper="$work/publish/gatekeeper"
fi

# Alone in a directory under a Flyway name, so `lint --dir` reads it as one migration.
dir="$work/generated-${megabytes}mb"
mkdir -p "$dir"
if [ ! -f "$dir/V1__generated.sql" ]; then
  dotnet build "$repo/bench/LintBench" -c Release -v q -nologo >&2
  dotnet run -c Release --no-build --project "$repo/bench/LintBench" -- generate "$dir/V1__generated.sql" "$megabytes" >&2
fi
size_mb="$(awk -v b="$(stat -c %s "$dir/V1__generated.sql")" 'BEGIN { printf "%.1f", b / 1e6 }')"

table="| output | peak RSS (MB) | wall (s) | user CPU (s) | output (MB) | exit |
| --- | ---: | ---: | ---: | ---: | ---: |"
for output in text json github; do
  status=0
  /usr/bin/time -o "$work/time-$output" -f "%M %e %U" \
    "$gatekeeper" lint --dir "$dir" --dialect postgres --output "$output" >"$work/out-$output" 2>"$work/err-$output" || status=$?
  read -r rss_kb wall user < <(tail -n 1 "$work/time-$output")
  out_mb="$(awk -v b="$(stat -c %s "$work/out-$output")" 'BEGIN { printf "%.1f", b / 1e6 }')"
  table+="
| $output | $(( rss_kb / 1024 )) | $wall | $user | $out_mb | $status |"
done

result="# gatekeeper lint on a generated ${size_mb} MB PostgreSQL migration ($(date -u +%Y-%m-%dT%H:%MZ))

Binary: $gatekeeper ($("$gatekeeper" --version 2>/dev/null || echo unknown)); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $(cut -d' ' -f1-3 /proc/loadavg).
Exit 1 is expected (the file holds blocking findings). Goal (issue 17.13): peak RSS under 1024 MB.

$table"
echo "$result"
echo "$result" | write_results "$repo/bench/results/lint-memory-$(date -u +%Y-%m-%d).md"
