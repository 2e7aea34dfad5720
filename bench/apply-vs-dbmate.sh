#!/usr/bin/env bash
# Migration apply from empty: `gatekeeper migrate` against dbmate on the same server, in the same run, alternating,
# a fresh empty database for every run, on every corpus of ../shared/corpora that applies on a vanilla server
# (goalert, hatchet, openmeter, kestra on PostgreSQL 15; fineract on MariaDB; see tests/Gatekeeper.Databases.Tests/CorpusApplyTests.cs).
# dbmate gets the same SQL in its own layout, written by bench/DbmateLayout from Gatekeeper's reading of the corpus
# (same order, same up text, the same transaction choice per file; see that program's header for the few adaptations).
# Times are whole-process wall clock: `gatekeeper migrate` (start-up included) and dbmate's own Go binary
# from the npm package (not the node wrapper).
# A third tool, "floor" (bench/apply-floor.py), sends each dbmate file as one query on one session and records nothing:
# the least any runner can do with the same SQL, so a corpus whose floor is not under 0.9x dbmate cannot meet the goal.
# It needs python3 with psycopg2 and MySQLdb (Debian python3-psycopg2, python3-mysqldb; installed when run as root).
# Usage: bench/apply-vs-dbmate.sh [REPS] [MYSQL_REPS]   (runs per tool and corpus; default 5 on PostgreSQL, 3 for fineract)
# Ports: GATEKEEPER_BENCH_POSTGRES_PORT (default 55621), GATEKEEPER_BENCH_MYSQL_PORT (default 53621).
# GATEKEEPER_BENCH_BINARY: a gatekeeper binary already published by scripts/publish.sh (skips the publish).
# GATEKEEPER_BENCH_BASELINE: a second published binary (say main's) timed in the same runs, alternating, as its own row.
# GATEKEEPER_BENCH_CORPORA: the corpora to run, by name (default all five: goalert hatchet openmeter kestra fineract).
# GATEKEEPER_BENCH_RTT_MS: both tools reach the servers through bench/latency-proxy.py, which adds this many ms to every
#   round trip, as a network between a migration Job and a managed database does (the loopback has about 0.05 ms;
#   this kernel has no netem). Default: none, the servers straight on the loopback.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
reps="${1:-5}"
mysql_reps="${2:-3}"
corpora="$repo/../shared/corpora"
[ -d "$corpora" ] || corpora=/work/shared/corpora
corpora="$(cd "$corpora" && pwd)"
export GATEKEEPER_TEST_POSTGRES_PORT="${GATEKEEPER_BENCH_POSTGRES_PORT:-55621}"
export GATEKEEPER_TEST_MYSQL_PORT="${GATEKEEPER_BENCH_MYSQL_PORT:-53621}"
# Its servers keep their data on disk, as a real server does (the test suites' go to memory when there is room: see
# scripts/db/data-root.sh); GATEKEEPER_BENCH_DATA_ROOT chooses another directory.
export GATEKEEPER_TEST_DATA_ROOT="${GATEKEEPER_BENCH_DATA_ROOT:-${TMPDIR:-/tmp}/gatekeeper-bench-data}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
password="${GATEKEEPER_TEST_POSTGRES_PASSWORD:-gatekeeper-test-pw}"
mysql_password="${GATEKEEPER_TEST_MYSQL_PASSWORD:-gatekeeper-test-pw}"
date_tag="$(date -u +%Y-%m-%d)"
results="$repo/bench/results/apply-vs-dbmate-$date_tag.md"
work="$repo/.tmp/apply-bench"
tools="$repo/.tmp/tools"
command_line="${GATEKEEPER_BENCH_RTT_MS:+GATEKEEPER_BENCH_RTT_MS=$GATEKEEPER_BENCH_RTT_MS }bench/apply-vs-dbmate.sh${*:+ $*}"
rm -rf "$work"; mkdir -p "$work" "$repo/bench/results"

started=()
proxies=()
cleanup() {
  for pid in "${proxies[@]}"; do kill "$pid" 2>/dev/null || true; done
  for engine in "${started[@]}"; do "$repo/scripts/db/stop-$engine.sh" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
start() {
  local out
  out="$("$repo/scripts/db/start-$1.sh" 2>"$work/start-$1.log")" || { cat "$work/start-$1.log" >&2; exit 1; }
  grep -q reusing "$work/start-$1.log" || started+=("$1")
  eval "$out"
}

# dbmate from npm: the wrapper package pulls a per-platform package holding the Go binary, which is what is timed.
if [ -z "$(find "$tools/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -n 1)" ]; then
  command -v npm >/dev/null || { echo "npm is not installed; it is needed to fetch dbmate" >&2; exit 1; }
  npm install --prefix "$tools" dbmate >"$work/npm.log" 2>&1 || { tail -n 5 "$work/npm.log" >&2; exit 1; }
fi
dbmate="$(find "$tools/node_modules/@dbmate" -path '*/bin/dbmate' -type f | head -n 1)"
"$dbmate" --version >/dev/null || { echo "$dbmate does not run on $(uname -sm)" >&2; exit 1; }
floor_python=""
find_floor_python() {
  local candidate
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import psycopg2, MySQLdb' 2>/dev/null; then floor_python="$candidate"; return; fi
  done
}
find_floor_python
if [ -z "$floor_python" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y python3-psycopg2 python3-mysqldb >"$work/apt.log" 2>&1 || true
  find_floor_python
fi
[ -n "$floor_python" ] || echo "no python3 with psycopg2 and MySQLdb (Debian python3-psycopg2, python3-mysqldb): the floor column is left out" >&2

if [ -n "${GATEKEEPER_BENCH_BINARY:-}" ]; then
  gatekeeper="$(cd "$(dirname "$GATEKEEPER_BENCH_BINARY")" && pwd)/$(basename "$GATEKEEPER_BENCH_BINARY")"
else
  echo "publishing gatekeeper as the image does (scripts/publish.sh: Native AOT)…" >&2
  "$repo/scripts/publish.sh" "$work/gatekeeper" >&2
  gatekeeper="$work/gatekeeper/gatekeeper"
fi
baseline=""
if [ -n "${GATEKEEPER_BENCH_BASELINE:-}" ]; then
  baseline="$(cd "$(dirname "$GATEKEEPER_BENCH_BASELINE")" && pwd)/$(basename "$GATEKEEPER_BENCH_BASELINE")"
fi
echo "building bench/DbmateLayout…" >&2
dotnet build "$repo/bench/DbmateLayout" -c Release -v q -nologo >&2
layout_dll="$repo/bench/DbmateLayout/bin/Release/net10.0/DbmateLayout.dll"

start postgres
start mariadb

# The tools' ports: the servers', or a latency proxy's in front of each (the script's own psql/mariadb calls go straight).
tool_pg_port="$GATEKEEPER_TEST_POSTGRES_PORT"; tool_my_port="$GATEKEEPER_TEST_MYSQL_PORT"; network=""
if [ -n "${GATEKEEPER_BENCH_RTT_MS:-}" ]; then
  free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  tool_pg_port="$(free_port)"; tool_my_port="$(free_port)"
  python3 "$repo/bench/latency-proxy.py" "$tool_pg_port" "$GATEKEEPER_TEST_POSTGRES_PORT" "$GATEKEEPER_BENCH_RTT_MS" & proxies+=($!)
  python3 "$repo/bench/latency-proxy.py" "$tool_my_port" "$GATEKEEPER_TEST_MYSQL_PORT" "$GATEKEEPER_BENCH_RTT_MS" & proxies+=($!)
  sleep 0.5
  measured_rtt="$(python3 "$repo/bench/latency-proxy.py" --probe "$GATEKEEPER_BENCH_RTT_MS")"
  network="both tools reach the servers through bench/latency-proxy.py, set to add $GATEKEEPER_BENCH_RTT_MS ms to every round trip (a round trip through it measured $measured_rtt ms, its own overhead included)"
  echo "$network" >&2
fi

pg() { PGPASSWORD="$password" psql -h 127.0.0.1 -p "$GATEKEEPER_TEST_POSTGRES_PORT" -U postgres -d "${2:-postgres}" -qAtc "$1"; }
my() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$GATEKEEPER_TEST_MYSQL_PORT" -uroot -p"$mysql_password" -N -e "$1"; }
create_db() { if [ "$1" = postgres ]; then pg "CREATE DATABASE $2"; else my "CREATE DATABASE $2"; fi; }
drop_db() { if [ "$1" = postgres ]; then pg "DROP DATABASE IF EXISTS $2 WITH (FORCE)"; else my "DROP DATABASE IF EXISTS $2"; fi; }
url_of() {
  if [ "$1" = postgres ]; then echo "postgres://postgres:$password@127.0.0.1:$tool_pg_port/$2${3:-}"
  else echo "mysql://root:$mysql_password@127.0.0.1:$tool_my_port/$2"; fi
}
# Tables other than the two tools' history tables, so both runs can be checked to have built the same schema.
tables_in() {
  if [ "$1" = postgres ]; then pg "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema') AND table_name NOT IN ('gatekeeper_schema_history','schema_migrations')" "$2"
  else my "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$2' AND table_name NOT IN ('gatekeeper_schema_history','schema_migrations')"; fi
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
seconds() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }

corpus_list=()
for entry in "goalert postgres" "hatchet postgres" "openmeter postgres" "kestra postgres" "fineract mysql"; do
  case " ${GATEKEEPER_BENCH_CORPORA:-goalert hatchet openmeter kestra fineract} " in *" ${entry%% *} "*) corpus_list+=("$entry") ;; esac
done
[ "${#corpus_list[@]}" -gt 0 ] || { echo "GATEKEEPER_BENCH_CORPORA names none of goalert hatchet openmeter kestra fineract" >&2; exit 2; }
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
table="| corpus | engine | migrations (dbmate files) | runs each | gatekeeper median s | gatekeeper in-process median s | dbmate median s | **gatekeeper / dbmate** | goal ≤ 0.9 |${baseline:+ baseline median s | baseline / dbmate |}${floor_python:+ floor median s | floor / dbmate |}
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |${baseline:+ ---: | ---: |}${floor_python:+ ---: | ---: |}"
layouts=""
tables=""
for entry in "${corpus_list[@]}"; do
  read -r corpus folder <<<"$entry"
  engine=$([ "$folder" = mysql ] && echo mysql || echo postgres)
  n=$([ "$engine" = mysql ] && echo "$mysql_reps" || echo "$reps")
  # Gatekeeper reads the corpus as it is, less fineract's V366_ (one underscore: Flyway skips it silently, Gatekeeper refuses it).
  source_dir="$work/$corpus/gatekeeper"; mkdir -p "$source_dir"
  find "$corpora/$corpus/$folder" -maxdepth 1 -type f ! -name 'V366_*' ! -name '*.md' -exec cp {} "$source_dir/" \;
  dbmate_dir="$work/$corpus/dbmate"
  layout="$(dotnet "$layout_dll" --dir "$source_dir" --out "$dbmate_dir" --dialect "$engine")"
  layouts="$layouts
- $corpus/$folder: $layout"
  migrations="$(echo "$layout" | awk '{ print $1 }')"; files="$(ls "$dbmate_dir" | wc -l)"
  gk=""; dm=""; gk_inside=""; bl=""; fl=""
  for run in $(seq "$n"); do
    # Alternate which tool goes first, so neither always meets a server just warmed (or just dirtied) by the other.
    order=$([ $((run % 2)) = 1 ] && echo "gatekeeper dbmate" || echo "dbmate gatekeeper")
    [ -z "$baseline" ] || order=$([ $((run % 2)) = 1 ] && echo "gatekeeper baseline dbmate" || echo "dbmate baseline gatekeeper")
    [ -z "$floor_python" ] || order=$([ $((run % 2)) = 1 ] && echo "$order floor" || echo "floor $order")
    for tool in $order; do
      db="bench_${tool}_${corpus}_$run"
      drop_db "$engine" "$db" >/dev/null 2>&1 || true
      create_db "$engine" "$db"
      log="$work/$corpus/$tool-$run.log"
      if [ "$tool" = floor ]; then
        if [ "$engine" = postgres ]; then port="$tool_pg_port"; floor_password="$password"; else port="$tool_my_port"; floor_password="$mysql_password"; fi
        out="$(GATEKEEPER_FLOOR_PASSWORD="$floor_password" "$floor_python" "$repo/bench/apply-floor.py" "$engine" 127.0.0.1 "$port" "$db" "$dbmate_dir" 2>"$log")" \
          || { echo "the floor failed on $corpus:" >&2; tail -n 5 "$log" >&2; exit 1; }
        ms="${out%% *}"
        fl="$fl $ms"
      elif [ "$tool" != dbmate ]; then
        binary=$([ "$tool" = gatekeeper ] && echo "$gatekeeper" || echo "$baseline")
        t0=$(date +%s%N)
        # migrate lints what it applies (one verdict with plan and the webhook); these published histories were reviewed
        # long ago, so every category is allowed: the lint still runs and is timed, it just blocks nothing.
        "$binary" migrate --dir "$source_dir" --url "$(url_of "$engine" "$db")" --allow destructive,backward-incompatible,locking,data-dependent,transaction,hygiene >"$log" 2>&1 || { echo "gatekeeper failed on $corpus:" >&2; tail -n 5 "$log" >&2; exit 1; }
        ms="$(ms_since "$t0")"
        grep -q "Applied $migrations migrations" "$log" || { echo "gatekeeper did not apply $migrations migrations of $corpus:" >&2; tail -n 3 "$log" >&2; exit 1; }
        if [ "$tool" = baseline ]; then bl="$bl $ms"; echo "$corpus run $run $tool: $(seconds "$ms") s" >&2; drop_db "$engine" "$db" >/dev/null; continue; fi
        gk="$gk $ms"
        # "Applied 280 migrations in 5064 ms" or "… in 22.2 s"
        gk_inside="$gk_inside $(grep -oE "Applied $migrations migrations in [0-9.]+ m?s" "$log" | awk '{ print ($6 == "s") ? $5 * 1000 : $5 }' || true)"
      else
        t0=$(date +%s%N)
        DATABASE_URL="$(url_of "$engine" "$db" '?sslmode=disable')" "$dbmate" --no-dump-schema --migrations-dir "$dbmate_dir" migrate >"$log" 2>&1 \
          || { echo "dbmate failed on $corpus:" >&2; tail -n 5 "$log" >&2; exit 1; }
        ms="$(ms_since "$t0")"
        [ "$(grep -c '^Applied:' "$log")" = "$files" ] || { echo "dbmate did not apply $files files of $corpus" >&2; exit 1; }
        dm="$dm $ms"
      fi
      echo "$corpus run $run $tool: $(seconds "$ms") s" >&2
      if [ "$run" = 1 ]; then tables="$tables $tool=$(tables_in "$engine" "$db")"; fi
      drop_db "$engine" "$db" >/dev/null
    done
  done
  # Both tools built the same number of tables on the first run (a cheap check that both applied the same SQL).
  [ "$(echo "$tables" | tr ' ' '\n' | grep -v '^$' | cut -d= -f2 | sort -u | wc -l)" = 1 ] || { echo "$corpus: the tools built different schemas:$tables" >&2; exit 1; }
  tables=""
  gk_med="$(echo "$gk" | median)"; dm_med="$(echo "$dm" | median)"; in_med="$(echo "$gk_inside" | median)"
  ratio="$(awk -v g="$gk_med" -v d="$dm_med" 'BEGIN { printf "%.2f", g / d }')"
  verdict="$(awk -v r="$ratio" 'BEGIN { print (r <= 0.9) ? "met" : "MISSED" }')"
  extra=""
  if [ -n "$baseline" ]; then
    bl_med="$(echo "$bl" | median)"
    extra=" $(seconds "$bl_med") | $(awk -v g="$bl_med" -v d="$dm_med" 'BEGIN { printf "%.2f", g / d }') |"
  fi
  if [ -n "$floor_python" ]; then
    fl_med="$(echo "$fl" | median)"
    extra="$extra $(seconds "$fl_med") | $(awk -v g="$fl_med" -v d="$dm_med" 'BEGIN { printf "%.2f", g / d }') |"
  fi
  table="$table
| $corpus | $engine | $migrations ($files) | $n | $(seconds "$gk_med") | $(seconds "$in_med") | $(seconds "$dm_med") | **$ratio** | $verdict |$extra"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "$table"

# What the .NET start-up alone costs, to read the whole-process numbers of small corpora.
t0=$(date +%s%N); "$gatekeeper" --version >/dev/null 2>&1 || true; startup="$(seconds "$(ms_since "$t0")")"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
{
  echo "# Migration apply: gatekeeper migrate vs dbmate ($date_tag)${GATEKEEPER_BENCH_RTT_MS:+, $GATEKEEPER_BENCH_RTT_MS ms added to every round trip}"
  echo
  echo "Run by \`$command_line\` at $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git -C "$repo" rev-parse --short HEAD)."
  echo
  echo "- nproc: $(nproc); CPU: $cpu"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- .NET: $(dotnet --version); $("$dbmate" --version) (the Go binary from npm's @dbmate package, not the node wrapper)"
  echo "- PostgreSQL $(pg 'show server_version'); MariaDB $(my 'select version()') — local, fsync off, data on disk ($GATEKEEPER_TEST_DATA_ROOT), otherwise as scripts/db/start-*.sh start them"
  [ -z "$network" ] || echo "- network: $network"
  [ -z "$baseline" ] || echo "- baseline: a second gatekeeper binary ($GATEKEEPER_BENCH_BASELINE) timed in the same runs, between the other two"
  [ -z "$floor_python" ] || echo "- floor: bench/apply-floor.py in the same runs: each dbmate file as one query on one session, nothing recorded; its time runs from just before connecting to the end (the interpreter's start-up left out), so no runner that records what it applied can be faster"
  echo "- \`gatekeeper --version\` alone (published Native AOT by scripts/publish.sh, as in the image): $startup s (the process start-up inside every gatekeeper time)"
  echo
  echo "Each run: a fresh empty database, then \`gatekeeper migrate --dir DIR --url URL\` (history in gatekeeper_schema_history)"
  echo "or \`dbmate --no-dump-schema --migrations-dir DIR migrate\` (history in schema_migrations); the tools alternate which goes first."
  echo "Times are whole-process wall clock, medians; \"in-process\" is the time gatekeeper itself reports for applying."
  echo "Both tools built the same number of tables on the first run of every corpus (checked)."
  echo
  echo "dbmate layouts (bench/DbmateLayout):$layouts"
  echo
  echo "$table"
} | write_results "$results"
echo
echo "results written to ${results#"$repo"/}"
