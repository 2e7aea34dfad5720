#!/usr/bin/env bash
# The one way the `gatekeeper` binary is built: Native AOT, self-contained, one file (plus its .dbg symbols), for
# Linux. The Dockerfile, scripts/test.sh (the CLI tests run this binary), the benchmarks and the quickstart use it.
#
#   scripts/publish.sh OUTDIR [--arch x64|arm64]     (default: this machine's architecture, or $GATEKEEPER_ARCH)
#
# Fails on any build warning, trim and AOT analysis warnings of every package included: the binary must behave as
# the tests (run under the JIT) proved, and a trim or AOT warning is a place where it might not. Prints the binary's
# size and how long the publish took. Another architecture needs that architecture's linker and zlib (see the
# Dockerfile). Re-running with nothing changed is incremental (seconds, not minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-}"
[ -n "$out" ] && [ "${out#-}" = "$out" ] || { echo "usage: scripts/publish.sh OUTDIR [--arch x64|arm64]" >&2; exit 2; }
shift
case "$(uname -m)" in
  x86_64 | amd64) arch="x64" ;;
  aarch64 | arm64) arch="arm64" ;;
  *) arch="" ;;
esac
arch="${GATEKEEPER_ARCH:-$arch}"
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="${2:-}"; shift 2 ;;
    --arch=*) arch="${1#--arch=}"; shift ;;
    *) echo "scripts/publish.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$arch" in
  x64 | amd64) arch="x64" ;;
  arm64 | aarch64) arch="arm64" ;;
  *) echo "scripts/publish.sh: --arch must be x64 or arm64 (got '$arch')" >&2; exit 2 ;;
esac

mkdir -p "$out"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
started=$(date +%s.%N)
status=0
# Its restore and intermediate files go to their own tree (.tmp/aot-build), never to the projects' obj/ folders: a
# restore for linux-x64 and a plain one rewrite the same obj/project.assets.json differently, so a publish sharing
# them could not run beside a Debug build (scripts/test.sh builds the tests while this runs) or an editor's build.
artifacts="${GATEKEEPER_PUBLISH_ARTIFACTS:-$PWD/.tmp/aot-build}"
# The trim and AOT analysis is the compiler's own (ILC analyzes every method that is in the binary and reports
# "Trim analysis error IL2057" and the like, which fail this script); the Roslyn analyzers that give the same warnings
# in an editor are off here: in this compile they cost 45 of its 99 s of CPU (DynamicallyAccessedMembersAnalyzer,
# 72-86 % of analyzer time in each project), on the critical path of scripts/test.sh. A plain `dotnet build` still
# runs them.
dotnet publish src/Gatekeeper/Gatekeeper.csproj --nologo -c Release -r "linux-$arch" -o "$out" --artifacts-path "$artifacts" \
  -p:PublishAot=true -p:TreatWarningsAsErrors=true -p:GenerateDocumentationFile=false \
  -p:EnableTrimAnalyzer=false -p:EnableAotAnalyzer=false -p:EnableSingleFileAnalyzer=false >"$log" 2>&1 || status=$?
elapsed=$(echo "$(date +%s.%N) - $started" | bc)

# MSBuild prints each warning twice (as it happens and in the summary); one line each is enough.
warnings="$(grep -E ': (warning|error) [A-Z]+[0-9]+|analysis (warning|error) IL[0-9]+' "$log" | sed 's/ \[[^]]*\]$//' | sort -u || true)"
if [ "$status" -ne 0 ] || [ -n "$warnings" ]; then
  cat "$log" >&2
  echo >&2
  if [ -n "$warnings" ]; then
    echo "scripts/publish.sh: the Native AOT publish reported $(echo "$warnings" | wc -l) warning(s) or error(s); each is a place where the binary may behave differently from the tests:" >&2
    echo "$warnings" >&2
  fi
  exit 1
fi

binary="$out/gatekeeper"
[ -x "$binary" ] || { echo "scripts/publish.sh: $binary was not produced" >&2; exit 1; }
printf 'published %s (linux-%s, Native AOT): %s bytes (%.1f MB), 0 warnings, in %.0f s\n' \
  "$binary" "$arch" "$(stat -c %s "$binary")" "$(echo "$(stat -c %s "$binary") / 1048576" | bc -l)" "$elapsed"
