#!/usr/bin/env bash
# Runs every test of the solution against real PostgreSQL 15 and MariaDB servers that this
# script starts (or reuses) on loopback, then scans everything Gatekeeper produced meanwhile (responses,
# logs, API writes, metrics, CLI output, recorded under .tmp/capture) for the databases' passwords, and
# prints one closing line: "N passed, N failed" (the scan counts as one test).
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Planner]
# A run with extra arguments skips the scan: a filtered run leaves categories of output empty.
#
# It publishes the Native AOT binary with scripts/publish.sh into .tmp/publish (a few minutes from clean on two
# cores, about 15 s when nothing changed) while it builds the solution, and starts the suites that do not need the
# binary as soon as the build is done: the CLI and scenario tests run that binary, and a trim or AOT warning fails
# the run before they start. GATEKEEPER_BINARY=path/to/gatekeeper uses a binary published
# already instead (and the build then analyzes src/ itself).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

eval "$(scripts/db/start-postgres.sh)"
eval "$(scripts/db/start-mariadb.sh)"

# Every test project runs in one of the two groups below; one in neither would silently never run.
for project in tests/*/*.Tests.csproj; do
  if ! grep -qF "$(basename "$project")" tests/suites-without-binary.slnf tests/suites-with-binary.slnf; then
    echo "scripts/test.sh: $project is in neither tests/suites-without-binary.slnf nor tests/suites-with-binary.slnf; add it to the one that fits (does it run the gatekeeper binary?)"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
done

mkdir -p .tmp
log=.tmp/test-output.log
build_args=()
publish_pid=""
if [ -z "${GATEKEEPER_BINARY:-}" ]; then
  # The publish and the Debug build of the test projects run side by side (the publish keeps its own intermediate
  # tree): on two cores the publish leaves part of a core idle (its link step, restore and evaluation are serial).
  # The publish compiles and analyzes src/ with warnings as errors (the code analyzers in the C# compile, the trim and
  # AOT analysis in the AOT compiler), so the Debug build skips the analyzers of src/ (tests/ are analyzed there as
  # always); a warning in src/ still fails the run, in the publish.
  scripts/publish.sh .tmp/publish > .tmp/publish.log 2>&1 &
  publish_pid=$!
  build_args=(-p:GatekeeperSourceAnalyzedByPublish=true)
  GATEKEEPER_BINARY="$PWD/.tmp/publish/gatekeeper"
fi
status=0
dotnet build Gatekeeper.sln --nologo -v quiet "${build_args[@]}" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  [ -z "$publish_pid" ] || wait "$publish_pid" || true
  echo "dotnet build Gatekeeper.sln failed: no test ran"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
export GATEKEEPER_TEST_CAPTURE_DIR="$PWD/.tmp/capture"
rm -rf "$GATEKEEPER_TEST_CAPTURE_DIR"
built=$SECONDS
if [ -n "$publish_pid" ]; then
  # The suites that never run the binary (tests/suites-without-binary.slnf) start as soon as the build is done, beside
  # the publish's last minutes; the CLI and scenario suites (tests/suites-with-binary.slnf) start once the binary is
  # there. Each writes its own log; the counts below add both up.
  ( dotnet test tests/suites-without-binary.slnf --nologo --no-build "$@" 2>&1 | tee .tmp/test-output-1.log; exit "${PIPESTATUS[0]}" ) &
  early_pid=$!
  publish_status=0
  wait "$publish_pid" || publish_status=$?
  cat .tmp/publish.log
  published=$SECONDS
  if [ "$publish_status" -ne 0 ]; then
    wait "$early_pid" || true
    echo "scripts/publish.sh failed: the gatekeeper binary the CLI tests run could not be built without warnings"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  export GATEKEEPER_BINARY
  dotnet test tests/suites-with-binary.slnf --nologo --no-build "$@" 2>&1 | tee .tmp/test-output-2.log || status=$?
  wait "$early_pid" || status=$?
  cat .tmp/test-output-1.log .tmp/test-output-2.log >> "$log"
else
  export GATEKEEPER_BINARY
  published=$SECONDS
  dotnet test Gatekeeper.sln --nologo --no-build "$@" 2>&1 | tee -a "$log" || status=$?
fi

# dotnet test prints one summary line per test assembly:
#   "Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total:    12, ..."
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or the test host failed before any test could report: count that as a failure.
  failed=1
fi
if [ "$#" -eq 0 ]; then
  if scripts/scan-test-output.py; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
else
  echo "secret scan: skipped (a filtered run does not produce every category of output)"
fi
# Where the time went (issue 12's limit is the whole command): the build, the publish (beside it), then the suites.
echo "time: $((SECONDS - started)) s in all (build done after $((built - started)) s, AOT publish after $((published - started)) s; suites and scan to the end)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
