#!/usr/bin/env bash
# Pod admission, Gatekeeper's hot path (issue 7, benchmarks 1 and 5), against a ceiling in the same run.
# (1) publishes `gatekeeper` (Release, as the Dockerfile does) and bench/AdmissionCeiling, a bare Kestrel app that
#     answers every POST with one fixed AdmissionReview, with the same certificate and listener settings;
# (2) starts `gatekeeper serve` (idle memory after start) and the ceiling, both pinned to one CPU, h2load on the other;
# (3) POSTs bench/fixtures/pod-create-review.json (a pod CREATE from a ReplicaSet, opted in, plan not applied, so
#     Gatekeeper answers with the scheduling-gate patch) over HTTPS/1.1 keep-alive at each concurrency, alternating
#     servers, then at a fixed rate; latency percentiles come from h2load's per-request log;
# (4) resident memory of `gatekeeper serve` idle and at peak, then idle/peak under runtime settings (GC mode, …);
# (5) prints the tables and writes bench/results/pod-admission-<date>.md (a later run of the day is appended: bench/results-file.sh).
# Usage: bench/pod-admission.sh
# Environment (defaults): DURATION=5 (seconds measured per step), CONCURRENCY="1 4 16 64", RATE=1000,
#   RATE_CONNECTIONS=8, RATE_DURATION=10, PIN=1 (servers on CPU 1, h2load on CPU 0), MEMORY_VARIANTS=1,
#   GATEKEEPER_BENCH_BASELINE (unset): a second published gatekeeper binary (say main's) run beside the others, measured
#   right after gatekeeper at every step, in its own table: a before/after in the same run.
# Needs: dotnet, h2load (Debian nghttp2-client), openssl, curl, taskset, python3, /usr/bin/time. Bounded: ~3-4 min.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/bench/results-file.sh"
duration="${DURATION:-5}"
concurrency="${CONCURRENCY:-1 4 16 64}"
rate="${RATE:-1000}"
rate_connections="${RATE_CONNECTIONS:-8}"
rate_duration="${RATE_DURATION:-10}"
pin="${PIN:-1}"
memory_variants="${MEMORY_VARIANTS:-1}"
work="$repo/.tmp/pod-admission"
fixture="$repo/bench/fixtures/pod-create-review.json"
date_tag="$(date -u +%Y-%m-%d)"
results="$repo/bench/results/pod-admission-$date_tag.md"
command_line="$(for v in DURATION CONCURRENCY RATE RATE_CONNECTIONS RATE_DURATION PIN MEMORY_VARIANTS GATEKEEPER_BENCH_BASELINE; do if [ -n "${!v:-}" ]; then printf '%s=%q ' "$v" "${!v}"; fi; done)bench/pod-admission.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

for tool in dotnet h2load openssl curl taskset python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "pod-admission: $tool is required (h2load: apt-get install nghttp2-client)" >&2; exit 2; }
done
rate_per_connection=$(( rate / rate_connections ))
baseline=""
if [ -n "${GATEKEEPER_BENCH_BASELINE:-}" ]; then
  baseline="$(cd "$(dirname "$GATEKEEPER_BENCH_BASELINE")" && pwd)/$(basename "$GATEKEEPER_BENCH_BASELINE")"
  [ -x "$baseline" ] || { echo "pod-admission: GATEKEEPER_BENCH_BASELINE $GATEKEEPER_BENCH_BASELINE is not an executable" >&2; exit 2; }
fi
[ $(( rate_per_connection * rate_connections )) -eq "$rate" ] || { echo "pod-admission: RATE must be a multiple of RATE_CONNECTIONS" >&2; exit 2; }

server_cpu=""; client_cpu=""
if [ "$pin" = 1 ] && [ "$(nproc)" -ge 2 ]; then server_cpu=1; client_cpu=0; fi
server_cpus="${server_cpu:-0-$(( $(nproc) - 1 ))}"
on_client_cpu() { if [ -n "$client_cpu" ]; then taskset -c "$client_cpu" "$@"; else "$@"; fi; }

pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

rm -rf "$work/logs" "$work/pki"
mkdir -p "$work/logs" "$work/pki" "$repo/bench/results"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "publishing src/Gatekeeper and bench/AdmissionCeiling (Release)…" >&2
# Gatekeeper as the Dockerfile builds it (scripts/publish.sh: Native AOT); the ceiling the same way (Native AOT, same
# runtime and GC settings), so the two differ only in what they do per request. Build servers off so nothing outlives
# the script.
"$repo/scripts/publish.sh" "$work/gatekeeper" >&2
dotnet publish "$repo/bench/AdmissionCeiling" -c Release -r "linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')" -p:PublishAot=true \
  -o "$work/ceiling" --disable-build-servers -v q -nologo >&2

# ECDSA P-256, as the chart's cert-manager Certificate asks for; both servers present this one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/pki/tls.key" -out "$work/pki/tls.crt" 2>/dev/null
# The pod path answers from memory and never calls the API server; serve is pointed at a closed port on loopback,
# so its Job watch and the controller's leader election fail fast and back off, as in a cluster whose API server is down.
cat >"$work/pki/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters:
- name: unreachable
  cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}
users:
- name: bench
  user: {token: bench}
contexts:
- name: bench
  context: {cluster: unreachable, user: bench, namespace: default}
current-context: bench
EOF

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # URL PID: until it answers, the process exits, or 60 s pass
  local i
  for i in $(seq 600); do
    curl -sf --cacert "$work/pki/tls.crt" -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "pod-admission: the server for $1 exited; see $work/logs" >&2; return 1; }
    sleep 0.1
  done
  echo "pod-admission: $1 did not answer within 60 s" >&2; return 1
}
memory_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# gatekeeper serve with the chart's shape: the controller on (an image set), HTTPS on loopback; extra env as arguments.
start_gatekeeper() { # LOG_NAME [ENV=VALUE…]; sets gk_pid, gk_port; runs $gk_binary if set
  local name="$1"; shift
  gk_port="$(free_port)"
  env "$@" Controller__Image=gatekeeper:bench POD_NAMESPACE=gatekeeper-system \
    taskset -c "$server_cpus" "${gk_binary:-$work/gatekeeper/gatekeeper}" serve --listen-address 127.0.0.1 --port "$gk_port" \
    --tls-cert-file "$work/pki/tls.crt" --tls-key-file "$work/pki/tls.key" --kubeconfig "$work/pki/kubeconfig" \
    >"$work/logs/$name.log" 2>&1 &
  gk_pid=$!
  pids+=("$gk_pid")
  wait_for "https://127.0.0.1:$gk_port/healthz" "$gk_pid"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# One h2load run; prints "req/s p50_ms p99_ms max_ms failed client_cpu% server_cpu% server_cpu_µs_per_request".
# The last two count the server's CPU time over h2load's whole life (warm-up included): CPU per request holds up
# better than req/s when other processes take CPU from the server. Extra h2load options as arguments.
load() { # NAME URL SERVER_PID H2LOAD_OPTIONS…
  local name="$1" url="$2" server="$3"; shift 3
  local before after out="$work/logs/$name.out" log="$work/logs/$name.requests" times="$work/logs/$name.time"
  before="$(cpu_ticks "$server")"
  on_client_cpu /usr/bin/time -f '%U %S %e' -o "$times" \
    h2load --h1 -t 1 -d "$fixture" -H 'Content-Type: application/json' --log-file "$log" "$@" "$url" >"$out" 2>&1 || true
  after="$(cpu_ticks "$server")"
  local rps failed
  rps="$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' "$out")"
  failed="$(awk '/^requests:/ { print $(NF - 5) + $(NF - 3) + $(NF - 1) }' "$out")"
  [ -n "$rps" ] || { echo "pod-admission: h2load failed for $name; see $out" >&2; rps=0; failed=all; }
  # h2load logs one line per request of the measured phase: start, status, duration in µs. Nearest-rank percentiles.
  local percentiles
  percentiles="$(awk '$2 !~ /^2/ { bad++ } { print $3 } END { if (bad) print "non-2xx:" bad > "/dev/stderr" }' "$log" | sort -n |
    awk '{ a[NR] = $1 } END { if (NR == 0) { print "— — —"; exit }
      p50 = a[int((NR * 50 + 99) / 100)]; p99 = a[int((NR * 99 + 99) / 100)];
      printf "%.3f %.3f %.3f", p50 / 1000, p99 / 1000, a[NR] / 1000 }')"
  local client_cpu server_cpu_pct ticks
  ticks="$(getconf CLK_TCK)"
  client_cpu="$(awk '{ printf "%.0f", ($1 + $2) / $3 * 100 }' "$times")"
  server_cpu_pct="$(awk -v d="$(( after - before ))" -v t="$ticks" -v e="$(awk '{ print $3 }' "$times")" 'BEGIN { printf "%.0f", d / t / e * 100 }')"
  local per_request
  per_request="$(awk -v d="$(( after - before ))" -v t="$ticks" -v r="$rps" -v e="$(awk '{ print $3 }' "$times")" 'BEGIN { printf (r > 0 ? "%.1f" : "—"), d / t / (r * e) * 1e6 }')"
  echo "$rps $percentiles $failed $client_cpu $server_cpu_pct $per_request"
}

echo "starting gatekeeper serve and the ceiling…" >&2
start_gatekeeper serve
sleep 5
idle_rss="$(memory_kb "$gk_pid" VmRSS)"; idle_hwm="$(memory_kb "$gk_pid" VmHWM)"
# Where the idle memory is: file-backed pages (mapped assemblies and native libraries), anonymous (GC heap, native
# heaps, stacks), shared (JIT'd code, which W^X maps twice through a memfd); and the GC's own count of its heap.
idle_parts="RssAnon $(mb "$(memory_kb "$gk_pid" RssAnon)") MB, RssFile $(mb "$(memory_kb "$gk_pid" RssFile)") MB, RssShmem $(mb "$(memory_kb "$gk_pid" RssShmem)") MB"
idle_gc_heap="$(curl -sf --cacert "$work/pki/tls.crt" "https://127.0.0.1:$gk_port/metrics" | awk '/^dotnet_total_memory_bytes/ { printf "%.1f", $2 / 1048576 }')"
gk_url="https://127.0.0.1:$gk_port/mutate/pods"

# The fixture must be gated: check Gatekeeper's answer, and serve that very answer from the ceiling.
curl -sf --cacert "$work/pki/tls.crt" -H 'Content-Type: application/json' --data-binary "@$fixture" "$gk_url" >"$work/pki/response.json"
grep -q '"patchType":"JSONPatch"' "$work/pki/response.json" || { echo "pod-admission: Gatekeeper did not gate the fixture pod: $(cat "$work/pki/response.json")" >&2; exit 1; }

ceiling_port="$(free_port)"
# taskset execs the server (no shell function in between), so $! is the server's own pid.
taskset -c "$server_cpus" "$work/ceiling/AdmissionCeiling" "$ceiling_port" "$work/pki/tls.crt" "$work/pki/tls.key" "$work/pki/response.json" \
  >"$work/logs/ceiling.log" 2>&1 &
ceiling_pid=$!
pids+=("$ceiling_pid")
wait_for "https://127.0.0.1:$ceiling_port/" "$ceiling_pid"
sleep 2
ceiling_idle_rss="$(memory_kb "$ceiling_pid" VmRSS)"
ceiling_url="https://127.0.0.1:$ceiling_port/mutate/pods"

if [ -n "$baseline" ]; then
  main_pid="$gk_pid"; main_port="$gk_port"
  gk_binary="$baseline" start_gatekeeper baseline
  bl_pid="$gk_pid"; bl_url="https://127.0.0.1:$gk_port/mutate/pods"
  gk_pid="$main_pid"; gk_port="$main_port"
  curl -sf --cacert "$work/pki/tls.crt" -H 'Content-Type: application/json' --data-binary "@$fixture" "$bl_url" | cmp -s - "$work/pki/response.json" ||
    echo "pod-admission: the baseline's answer differs from gatekeeper's" >&2
fi

echo "warming up both (JIT tiers) and measuring…" >&2
load warmup-ceiling "$ceiling_url" "$ceiling_pid" -c 16 -D 3 >/dev/null
load warmup-gatekeeper "$gk_url" "$gk_pid" -c 16 -D 3 >/dev/null
[ -z "$baseline" ] || load warmup-baseline "$bl_url" "$bl_pid" -c 16 -D 3 >/dev/null
baseline_table="| connections | ceiling µs/request | gatekeeper µs/request | baseline µs/request | ceiling req/s | gatekeeper req/s | baseline req/s | gatekeeper / ceiling CPU | baseline / ceiling CPU |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"

table="| connections | ceiling req/s | ceiling p50 ms | ceiling p99 ms | gatekeeper req/s | gatekeeper p50 ms | gatekeeper p99 ms | gatekeeper / ceiling | h2load CPU % (ceiling, gatekeeper) | server CPU % (ceiling, gatekeeper) | server CPU µs/request (ceiling, gatekeeper) |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
failures=""
ratios=""
peak_rss=0
for c in $concurrency; do
  read -r c_rps c_p50 c_p99 _ c_failed c_cli c_srv c_us < <(load "ceiling-c$c" "$ceiling_url" "$ceiling_pid" -c "$c" -D "$duration" --warm-up-time 1)
  read -r g_rps g_p50 g_p99 _ g_failed g_cli g_srv g_us < <(load "gatekeeper-c$c" "$gk_url" "$gk_pid" -c "$c" -D "$duration" --warm-up-time 1)
  rss="$(memory_kb "$gk_pid" VmRSS)"; [ "$rss" -gt "$peak_rss" ] && peak_rss="$rss"
  if [ -n "$baseline" ]; then
    read -r b_rps _ _ _ b_failed _ _ b_us < <(load "baseline-c$c" "$bl_url" "$bl_pid" -c "$c" -D "$duration" --warm-up-time 1)
    [ "$b_failed" = 0 ] || failures="$failures c=$c: baseline $b_failed failed;"
    baseline_table="$baseline_table
| $c | $c_us | $g_us | $b_us | $(printf '%.0f' "$c_rps") | $(printf '%.0f' "$g_rps") | $(printf '%.0f' "$b_rps") | $(awk -v g="$g_us" -v c="$c_us" 'BEGIN { printf (c > 0 ? "%.2fx" : "—"), g / c }') | $(awk -v b="$b_us" -v c="$c_us" 'BEGIN { printf (c > 0 ? "%.2fx" : "—"), b / c }') |"
  fi
  ratio="$(awk -v g="$g_rps" -v c="$c_rps" 'BEGIN { printf (c > 0 ? "%.0f %%" : "—"), g / c * 100 }')"
  ratios="$ratios c=$c:$(awk -v g="$g_rps" -v c="$c_rps" 'BEGIN { printf "%.0f", (c > 0 ? g / c * 100 : 0) }')"
  [ "$c_failed$g_failed" = 00 ] || failures="$failures c=$c: ceiling $c_failed, gatekeeper $g_failed failed;"
  row="| $c | $(printf '%.0f' "$c_rps") | $c_p50 | $c_p99 | $(printf '%.0f' "$g_rps") | $g_p50 | $g_p99 | $ratio | $c_cli, $g_cli | $c_srv, $g_srv | $c_us, $g_us |"
  table="$table
$row"
  echo "$row" >&2
done

rate_table="| server | connections × req/s each | achieved req/s | p50 ms | p99 ms | max ms | failed | h2load CPU % | server CPU % |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for server in ceiling gatekeeper ${baseline:+baseline}; do
  case "$server" in
    ceiling) url="$ceiling_url"; pid="$ceiling_pid" ;;
    gatekeeper) url="$gk_url"; pid="$gk_pid" ;;
    baseline) url="$bl_url"; pid="$bl_pid" ;;
  esac
  read -r r_rps r_p50 r_p99 r_max r_failed r_cli r_srv _ < <(load "$server-rate$rate" "$url" "$pid" \
    -c "$rate_connections" --rps "$rate_per_connection" -D "$rate_duration" --warm-up-time 1)
  [ "$server" = gatekeeper ] && gk_rate_p99="$r_p99"
  [ "$r_failed" = 0 ] || failures="$failures rate $server: $r_failed failed;"
  rate_table="$rate_table
| $server | $rate_connections × $rate_per_connection | $(printf '%.0f' "$r_rps") | $r_p50 | $r_p99 | $r_max | $r_failed | $r_cli | $r_srv |"
done

after_rss="$(memory_kb "$gk_pid" VmRSS)"; peak_hwm="$(memory_kb "$gk_pid" VmHWM)"
[ "$after_rss" -gt "$peak_rss" ] && peak_rss="$after_rss"
patched="$(curl -sf --cacert "$work/pki/tls.crt" "https://127.0.0.1:$gk_port/metrics" |
  awk '/^gatekeeper_admission_requests_total\{.*mutate-pods.*patched/ { s += $NF } END { printf "%.0f", s }')"
stop_all

memory_table="| runtime setting | idle VmRSS MB | idle VmHWM MB | VmHWM MB after 64 connections for ${duration} s |
| --- | ---: | ---: | ---: |"
if [ "$memory_variants" = 1 ]; then
  echo "memory under runtime settings…" >&2
  # Each: a fresh process, idle 5 s, then the 64-connection load; knobs a chart's extraEnv could set.
  for variant in "default (workstation, concurrent GC)" DOTNET_gcServer=1 DOTNET_gcConcurrent=0 DOTNET_GCgen0size=0x200000 \
    DOTNET_TieredPGO=0 DOTNET_TieredCompilation=0 DOTNET_GCHeapHardLimit=0x4000000; do
    settings=(); [[ "$variant" == DOTNET_* ]] && settings=("$variant")
    start_gatekeeper "memory-${settings[0]:-default}" "${settings[@]}"
    sleep 5
    v_rss="$(memory_kb "$gk_pid" VmRSS)"; v_hwm="$(memory_kb "$gk_pid" VmHWM)"
    load "memory-${settings[0]:-default}" "https://127.0.0.1:$gk_port/mutate/pods" "$gk_pid" -c 64 -D "$duration" >/dev/null
    v_peak="$(memory_kb "$gk_pid" VmHWM)"
    stop_pid "$gk_pid"
    memory_table="$memory_table
| $variant | $(mb "$v_rss") | $(mb "$v_hwm") | $(mb "$v_peak") |"
  done
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
pinning="$([ -n "$server_cpu" ] && echo "servers pinned to CPU $server_cpu, h2load (one thread) to CPU $client_cpu with taskset; a row's h2load CPU near 100 % would mean the generator limited it" || echo "no pinning (PIN=0 or one CPU): servers and h2load share every CPU")"
busy="$(awk -v b="${load_before%% *}" -v a="${load_after%% *}" -v n="$(nproc)" 'BEGIN { if (b > n / 2 || a > n / 2) printf "WARNING: load average %s before, %s after on %d CPUs: other processes took CPU from the servers, so req/s, ratios and latencies are unreliable here; the CPU µs/request column holds up better.", b, a, n }')"
goal_ratio="$(echo "$ratios" | tr ' ' '\n' | awk -F: 'NF == 2 { if ($2 >= 80) met = met " " $1; else missed = missed " " $1 " (" $2 " %)" }
  END { printf "%s", (missed == "" ? "met at every concurrency" : "met at" (met == "" ? " none" : met) "; not met at" missed) }')"
goal_rate="$(awk -v p="${gk_rate_p99:-999}" 'BEGIN { print (p <= 2 ? "met" : "not met") }')"
summary="$(cat <<EOF
Gatekeeper \`serve\` vs a bare Kestrel ceiling, POST /mutate/pods with a $(wc -c <"$fixture")-byte pod CREATE AdmissionReview,
HTTPS (TLS 1.3, ECDSA P-256) over HTTP/1.1 keep-alive; $duration s measured per step after 1 s warm-up; $pinning.

$table

Fixed rate: $rate req/s ($rate_connections connections × $rate_per_connection req/s, h2load --rps), $rate_duration s measured:

$rate_table
${baseline:+
Baseline (\`GATEKEEPER_BENCH_BASELINE=$GATEKEEPER_BENCH_BASELINE\`, measured right after gatekeeper at each step; server CPU per request):

$baseline_table
}
${busy:+$busy
}Goal p99 ≤ 2 ms at $rate req/s: $goal_rate (gatekeeper p99 ${gk_rate_p99:-—} ms). Goal throughput ≥ 80 % of the ceiling: $goal_ratio.
Gatekeeper counted ${patched:-?} patched pod admissions in its own metric (every measured request is a gated pod).${failures:+
FAILURES:$failures}

Memory of \`gatekeeper serve\` (from /proc/PID/status): idle (5 s after start) VmRSS $(mb "$idle_rss") MB, VmHWM $(mb "$idle_hwm") MB
($idle_parts; GC heap by dotnet_total_memory_bytes ${idle_gc_heap:-?} MB);
under the loads above: highest VmRSS sampled $(mb "$peak_rss") MB, VmHWM $(mb "$peak_hwm") MB. Goal (issue 13) under 60 MB idle and 120 MB under load.
The ceiling app (same runtime, Kestrel and TLS, nothing else) idles at VmRSS $(mb "$ceiling_idle_rss") MB.
EOF
)"
if [ "$memory_variants" = 1 ]; then
  summary="$summary

Memory under runtime settings (each a fresh \`gatekeeper serve\`, as DOTNET_* environment variables):

$memory_table"
fi
echo
echo "$summary"

{
  echo "# Pod admission: Gatekeeper vs a bare Kestrel ceiling ($date_tag)"
  echo
  echo "Run by \`$command_line\` at $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src bench || echo ' (with uncommitted changes)')."
  echo
  echo "- nproc: $(nproc); CPU: $cpu"
  echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
  echo "- .NET: $(dotnet --version) (runtime $(dotnet --list-runtimes | awk '/NETCore.App/ { v = $2 } END { print v }')); $(h2load --version | head -n 1); $(openssl version | cut -d' ' -f1-2); kernel $(uname -r)"
  echo "- servers: \`gatekeeper serve\` published Release as the Dockerfile does, its kubeconfig pointing at a closed loopback port (the pod path never calls the API server; the Job watch and leader election back off); the ceiling is bench/AdmissionCeiling"
  echo
  echo "$summary"
} | write_results "$results"
echo
echo "results written to ${results#"$repo"/}"
