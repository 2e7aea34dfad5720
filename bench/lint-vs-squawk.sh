#!/usr/bin/env bash
# Gatekeeper's linter against squawk on the same PostgreSQL files, in the same run, on the same machine load.
# (1) in-process throughput of Linter.Lint on every corpus and a generated ≥ 10 MB file (bench/LintBench);
# (2) whole-process time of squawk and of `gatekeeper lint` on the PostgreSQL corpora and the generated file;
# (3) the tables, with nproc, CPU model and load average, in bench/results/lint-<date>.md (a later run of the day is appended).
# Usage: bench/lint-vs-squawk.sh [REPETITIONS]   (whole-process repetitions per tool, alternating; default 5)
# Each whole-process run is stopped after LINT_BENCH_LIMIT seconds (default 120) and reported as "> LIMIT";
# a tool that hit the limit on an input is not run again on that input.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
reps="${1:-5}"
limit="${LINT_BENCH_LIMIT:-120}"
corpora="$repo/../shared/corpora"
[ -d "$corpora" ] || corpora=/work/shared/corpora
corpora="$(cd "$corpora" && pwd)"
work="$repo/.tmp/lint-bench"
tools="$repo/.tmp/tools"
mkdir -p "$work" "$repo/bench/results"
date_tag="$(date -u +%Y-%m-%d)"
results="$repo/bench/results/lint-$date_tag.md"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "building bench/LintBench, and publishing gatekeeper as the image does (scripts/publish.sh: Native AOT)…" >&2
dotnet build "$repo/bench/LintBench" -c Release -v q -nologo >&2
published="$work/gatekeeper"
"$repo/scripts/publish.sh" "$published" >&2
gatekeeper="$published/gatekeeper"

# The generated file lives alone in a directory under a Flyway name, so `gatekeeper lint --dir` reads it as a migration.
generated_dir="$work/generated"
generated="$generated_dir/V1__generated.sql"
mkdir -p "$generated_dir"
[ -f "$generated" ] || dotnet run -c Release --no-build --project "$repo/bench/LintBench" -- generate "$generated" 10 >&2
# A 1 MB file as well: squawk's time grows faster than linearly with file size, so one size alone misleads.
generated_small_dir="$work/generated-1mb"
mkdir -p "$generated_small_dir"
[ -f "$generated_small_dir/V1__generated.sql" ] || dotnet run -c Release --no-build --project "$repo/bench/LintBench" -- generate "$generated_small_dir/V1__generated.sql" 1 >&2

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
inprocess="$(dotnet run -c Release --no-build --project "$repo/bench/LintBench" -- --corpora "$corpora" --generated "$generated")"
echo "$inprocess"

# squawk: npm's squawk-cli wrapper spawns a per-platform binary package; time that binary, not node.
squawk=""
squawk_note=""
if [ ! -x "$tools/node_modules/.bin/squawk" ]; then
  if ! command -v npm >/dev/null; then
    squawk_note="squawk not measured: npm is not installed."
  elif ! npm install --prefix "$tools" squawk-cli >"$work/npm.log" 2>&1; then
    squawk_note="squawk not measured: npm install squawk-cli failed ($(tail -n 1 "$work/npm.log"))."
  fi
fi
if [ -z "$squawk_note" ]; then
  squawk="$(find "$tools/node_modules/@squawk-cli" -path '*/bin/squawk' -type f 2>/dev/null | head -n 1)"
  if [ -z "$squawk" ] || ! "$squawk" --version >/dev/null 2>&1; then
    squawk_note="squawk not measured: squawk-cli installed but its platform binary (@squawk-cli/*/bin/squawk) is missing or does not run on $(uname -sm)."
    squawk=""
  fi
fi
[ -n "$squawk_note" ] && echo "$squawk_note" >&2

# The files each tool judges: golang-migrate keeps down files beside up files; only up files are migrations to lint.
files_of() {
  local dir="$1"
  if compgen -G "$dir/*.up.sql" >/dev/null; then ls "$dir"/*.up.sql; else ls "$dir"/*.sql; fi
}

seconds_of() { # runs a command with the time limit, discards its output (both linters exit non-zero on findings),
  # prints wall seconds, or "timeout" when the limit stopped it
  local start end status=0
  start=$(date +%s%N)
  timeout "$limit" "$@" >/dev/null 2>&1 || status=$?
  end=$(date +%s%N)
  if [ "$status" -eq 124 ]; then echo timeout; return; fi
  echo "$(( (end - start) / 1000 ))" | awk '{ printf "%.3f", $1 / 1e6 }'
}
# Runs a timed command unless that tool already hit the limit on this input (its "seen" variable says timeout).
timed_run() { # name-of-accumulator command…
  local var="$1"; shift
  case " ${!var} " in *" timeout "*) return ;; esac
  printf -v "$var" '%s %s' "${!var}" "$(seconds_of "$@")"
}
summary_of() { # accumulated times → "best median", or ">LIMIT >LIMIT" when the tool was stopped
  case " $1 " in *" timeout "*) echo ">$limit >$limit"; return ;; esac
  echo "$(echo "$1" | best) $(echo "$1" | median)"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
best() { tr ' ' '\n' | grep -v '^$' | sort -g | head -n 1; }

whole="| input | MB (files) | squawk best s | squawk median s | gatekeeper best s | gatekeeper median s | gatekeeper / squawk (median) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
targets=()
for dir in "$corpora"/*/postgres; do targets+=("$dir"); done
targets+=("$generated_small_dir" "$generated_dir")
cd "$work" # squawk reads a .squawk.toml from the working directory; this one has none
for dir in "${targets[@]}"; do
  name="$(basename "$(dirname "$dir")")/$(basename "$dir")"
  [ "$dir" = "$generated_dir" ] && name="generated 10 MB/postgres"
  [ "$dir" = "$generated_small_dir" ] && name="generated 1 MB/postgres"
  mapfile -t files < <(files_of "$dir")
  mb="$(cat "${files[@]}" | wc -c | awk '{ printf "%.2f", $1 / 1e6 }')"
  sq=""; gk=""
  # One warm-up of each (disk cache, dotnet's first start; a warm-up that hits the limit counts as the result),
  # then alternating timed runs under the same load.
  if [ -n "$squawk" ]; then
    warm="$(seconds_of "$squawk" "${files[@]}")"; [ "$warm" = timeout ] && sq="timeout"
  fi
  seconds_of "$gatekeeper" lint --dir "$dir" --dialect postgres >/dev/null
  for _ in $(seq "$reps"); do
    [ -n "$squawk" ] && timed_run sq "$squawk" "${files[@]}"
    timed_run gk "$gatekeeper" lint --dir "$dir" --dialect postgres
  done
  read -r gk_best gk_med < <(summary_of "$gk")
  if [ -n "$squawk" ]; then
    read -r sq_best sq_med < <(summary_of "$sq")
    ratio="$(awk -v g="$gk_med" -v s="$sq_med" 'BEGIN { if (s ~ /^>/) printf "< %.3f×", g / substr(s, 2); else if (g ~ /^>/) print "—"; else printf "%.2f×", g / s }')"
  else
    sq_med="—"; sq_best="—"; ratio="—"
  fi
  whole="$whole
| $name | $mb | $sq_best | $sq_med | $gk_best | $gk_med | $ratio |"
done
echo
echo "$whole"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
squawk_version="$([ -n "$squawk" ] && "$squawk" --version || echo "not measured")"
{
  echo "# Lint throughput: Gatekeeper vs squawk ($date_tag)"
  echo
  echo "Run by \`bench/lint-vs-squawk.sh $reps\` at $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git -C "$repo" rev-parse --short HEAD)."
  echo
  echo "- nproc: $(nproc); CPU: $cpu"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- .NET: $(dotnet --version); squawk: $squawk_version"
  echo "- corpora: $corpora (fineract's V366 left out); generated files: $(wc -c <"$generated_small_dir/V1__generated.sql" | awk '{ printf "%.1f", $1 / 1e6 }') MB and $(wc -c <"$generated" | awk '{ printf "%.1f", $1 / 1e6 }') MB of PostgreSQL"
  echo "- time limit per whole-process run: $limit s (\">$limit\" = stopped at the limit; that tool was not run again on that input)"
  [ -n "$squawk_note" ] && echo "- $squawk_note"
  echo
  echo "## In-process"
  echo
  echo "$inprocess"
  echo
  echo "## Whole process (start-up included), PostgreSQL"
  echo
  echo "One warm-up each, then $reps alternating runs of \`squawk FILES…\` and \`gatekeeper lint --dir DIR --dialect postgres\` (published Native AOT by scripts/publish.sh, as in the image)"
  echo "(output discarded). golang-migrate directories: squawk gets only the \`.up.sql\` files, which are what Gatekeeper lints."
  echo
  echo "$whole"
} | write_results "$results"
echo
echo "results written to ${results#"$repo"/}"
