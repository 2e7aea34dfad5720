#!/usr/bin/env bash
# The end-to-end scenarios on a real kind cluster (kind-config.yaml): builds Gatekeeper's image, loads it, installs
# the chart (two replicas) and a throwaway PostgreSQL, then runs every scenario of tests/e2e/scenarios.txt, the list
# the simulated-cluster suite (tests/Gatekeeper.Cluster.Tests) reads too: the function scenario_<Name> below checks the
# same outcome as the test <Name>_… there, each in a namespace and database of its own. A listed scenario without its
# function here fails the run (and a test in Gatekeeper.Cluster.Tests checks that they match), so the lists cannot drift.
#
# Where the simulated cluster advances its clock, a real cluster takes the time or does what that time would do:
#   - the Job's retries with back-off and the Lease's expiry simply take their real seconds (under two minutes);
#   - Restart: the TTL controller deleting a finished Job a day later is done by deleting it (as the TTL controller
#     does, with background propagation);
#   - PullFail: the minute is waited for, in real time.
# Without Docker or kind it prints one SKIPPED line and exits 0.
#
#   tests/e2e/run-kind.sh                 every listed scenario (about 25 minutes; pulls postgres, pause and busybox)
#   tests/e2e/run-kind.sh Rollback Scale  only those (names from the list)
# Environment: KIND_CLUSTER (default gatekeeper-e2e), KIND_NODE_IMAGE (kindest/node:v1.30 or later), KEEP_CLUSTER=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

skip() { echo "SKIPPED: kind end-to-end suite (no Docker engine/kind on this machine)"; exit 0; }
command -v docker >/dev/null 2>&1 || skip
docker info >/dev/null 2>&1 || skip
command -v kind >/dev/null 2>&1 || skip

cluster="${KIND_CLUSTER:-gatekeeper-e2e}"
system=gatekeeper-system
dbns=gk-e2e
image=gatekeeper:e2e
list=tests/e2e/scenarios.txt
here=tests/e2e/manifests
started=$SECONDS

if [ -f scripts/ci/delivery-tools.sh ]; then
  # shellcheck source=/dev/null
  source scripts/ci/delivery-tools.sh
  delivery_install_helm_kubectl
fi
command -v kubectl >/dev/null 2>&1 || { echo "FAILED: kubectl is needed on PATH" >&2; exit 1; }
command -v helm >/dev/null 2>&1 || { echo "FAILED: helm is needed on PATH" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "FAILED: jq is needed on PATH (the Forged scenario copies a Job with it)" >&2; exit 1; }

step() { printf '\n== %s (%d s)\n' "$*" "$((SECONDS - started))"; }
# Every scenario runs in a subshell with errexit: fail ends that scenario only.
fail() { echo "FAILED: $*" >&2; exit 1; }

# wait_for <seconds> <description> <command...>: polls every 2 s until the command succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${limit}s waiting until $what"
    sleep 2
  done
}

diagnose() {
  local ns=$1
  echo "--- diagnostics of $ns" >&2
  kubectl -n "$ns" get deploy,rs,pods,jobs -o wide >&2 || true
  kubectl -n "$ns" get deploy shop -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2 || true
  kubectl -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -30 >&2 || true
  kubectl -n "$system" logs -l app.kubernetes.io/name=gatekeeper --tail=60 --prefix >&2 || true
}

cleanup() {
  if [ "${KEEP_CLUSTER:-}" != "1" ] && [ "${created_cluster:-0}" = "1" ]; then
    kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# --- the application and its database, per scenario namespace -------------------------------------------------------

psql_in() { kubectl -n "$dbns" exec deploy/postgres -- psql -U orders -d "$1" -tAc "$2"; }

# setup_namespace <ns> [database]: the namespace, its own database on the shared server, and the Secret shop-db.
setup_namespace() {
  local ns=$1 db=${2:-${1//-/_}}
  kubectl create namespace "$ns" >/dev/null
  [ "$(psql_in orders "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 1 ] || psql_in orders "CREATE DATABASE $db" >/dev/null
  kubectl -n "$ns" create secret generic shop-db --from-literal=url="postgres://orders:e2e-only-password@postgres.$dbns.svc:5432/$db" >/dev/null
}

# put_migrations <ns> <file=sql>...: the ConfigMap shop-migrations holding exactly these files.
put_migrations() {
  local ns=$1
  shift
  local args=() entry
  for entry in "$@"; do args+=(--from-literal="$entry"); done
  kubectl -n "$ns" create configmap shop-migrations "${args[@]}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

V1='V1__create_orders.sql=CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2));'
V2='V2__add_order_notes.sql=ALTER TABLE orders ADD COLUMN note varchar(200);'
# A migration that takes long enough to look at the cluster while it runs.
V2_SLOW='V2__add_order_notes.sql=SELECT pg_sleep(25); ALTER TABLE orders ADD COLUMN note varchar(200);'

# app <ns> <version> [replicas] [extra metadata annotation lines]: an opted-in Deployment shop (OPT_IN=0: not opted in;
# STRATEGY: a strategy block; APP: another name); the version is a pod template annotation, so each is a rollout.
app() {
  local ns=$1 version=$2 replicas=${3:-2} extra=${4:-} name=${APP:-shop}
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
  namespace: $ns
  annotations:
    e2e.gatekeeper.dev/app: "$name"
YAML
  if [ "${OPT_IN:-1}" = 1 ]; then
    printf '    gatekeeper.dev/migrations: shop-migrations\n    gatekeeper.dev/database-secret: shop-db\n    gatekeeper.dev/job-timeout: 5m\n'
  fi
  [ -z "$extra" ] || printf '    %s\n' "$extra"
  cat <<YAML
spec:
  replicas: $replicas
${STRATEGY:-}
  selector: {matchLabels: {app: $name}}
  template:
    metadata:
      labels: {app: $name}
      annotations: {e2e.gatekeeper.dev/version: "$version"}
    spec:
      containers:
        - name: app
          image: registry.k8s.io/pause:3.10
          resources: {requests: {cpu: 10m, memory: 16Mi}}
YAML
}

apply_app() { app "$@" | kubectl apply -f - 2>&1; }
plan_of() { kubectl -n "$1" get deploy "${2:-shop}" -o jsonpath='{.spec.template.metadata.annotations.gatekeeper\.dev/plan}'; }
reason_of() { kubectl -n "$1" get deploy "${2:-shop}" -o jsonpath='{.status.conditions[?(@.type=="gatekeeper.dev/Migrated")].reason}'; }
message_of() { kubectl -n "$1" get deploy "${2:-shop}" -o jsonpath='{.status.conditions[?(@.type=="gatekeeper.dev/Migrated")].message}'; }
reason_is() { [ "$(reason_of "$1")" = "$2" ]; }
message_has() { message_of "$1" | grep -qF "$2"; }
jobs_in() { kubectl -n "$1" get jobs -o name | wc -l | tr -d ' '; }
job_pod_running() { [ -n "$(kubectl -n "$1" get pods -l batch.kubernetes.io/job-name -o jsonpath='{.items[?(@.status.phase=="Running")].metadata.name}')" ]; }
gated_pods() { kubectl -n "$1" get pods -l "app=${2:-shop}" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.schedulingGates[*].name}{"\n"}{end}' | grep -c 'gatekeeper.dev/migration' || true; }
rolled_out() { kubectl -n "$1" rollout status deployment/"${2:-shop}" --timeout="${3:-4m}" >/dev/null; }
plan_succeeded() { [ -n "$(kubectl -n "$1" get jobs -l "gatekeeper.dev/plan=${2:0:63}" -o jsonpath='{range .items[?(@.status.succeeded==1)]}{.metadata.name}{end}')" ]; }
events_with() { kubectl -n "$1" get events --field-selector "reason=$2" -o name | wc -l | tr -d ' '; }
leader() { kubectl -n "$system" get lease gatekeeper-controller -o jsonpath='{.spec.holderIdentity}'; }
has_leader() { [ -n "$(leader)" ]; }
leader_is_not() { local now; now="$(leader)"; [ -n "$now" ] && [ "$now" != "$1" ]; }
available_old() { kubectl -n "$1" get deploy shop -o jsonpath='{.status.availableReplicas}'; }
column_exists() { [ "$(psql_in "$1" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = '$2'")" = 1 ]; }
table_exists() { [ "$(psql_in "$1" "SELECT count(*) FROM information_schema.tables WHERE table_name = '$2' AND table_schema = current_schema()")" = 1 ]; }

# rolled_out_v1 <ns>: V1 applied by one Job and v1's two pods running: where most scenarios start.
rolled_out_v1() {
  local ns=$1
  put_migrations "$ns" "$V1"
  apply_app "$ns" v1 >/dev/null
  local plan
  plan="$(plan_of "$ns")"
  [ -n "$plan" ] || fail "the webhook did not stamp gatekeeper.dev/plan on $ns/shop's pod template"
  wait_for 180 "$ns: v1's Job succeeded" plan_succeeded "$ns" "$plan"
  rolled_out "$ns"
}

# v2_job_running <ns>: v2 applied over v1 with a slow migration, and its Job's pod running (the new pods wait behind it).
v2_job_running() {
  local ns=$1
  put_migrations "$ns" "$V1" "$V2_SLOW"
  apply_app "$ns" v2 >/dev/null
  wait_for 120 "v2's Job runs" job_pod_running "$ns"
}

# helm_gatekeeper [helm args]: (re)installs the chart with the suite's image and two replicas, then waits for a leader.
helm_gatekeeper() {
  helm upgrade --install gatekeeper charts/gatekeeper --namespace "$system" --create-namespace \
    --set image.repository="${image%%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
    "$@" --wait --timeout 5m >/dev/null
  wait_for 120 "a replica holds the controller's Lease" has_leader
}

# --- the scenarios, one function per line of tests/e2e/scenarios.txt ------------------------------------------------

scenario_FirstRollout() {
  local ns=$1
  rolled_out_v1 "$ns"
  [ "$(jobs_in "$ns")" = 1 ] || fail "expected exactly one Job for v1"
  [ "$(events_with "$ns" MigrationSucceeded)" -ge 1 ] || fail "no MigrationSucceeded Event"
  v2_job_running "$ns"
  wait_for 60 "a v2 pod waits behind the gate" test "$(gated_pods "$ns")" -ge 1
  [ "$(available_old "$ns")" -ge 2 ] || fail "the old pods stopped serving while v2's Job ran"
  wait_for 180 "v2's Job succeeded" plan_succeeded "$ns" "$(plan_of "$ns")"
  rolled_out "$ns"
  [ "$(jobs_in "$ns")" = 2 ] || fail "expected two Jobs, one per plan"
  column_exists "${ns//-/_}" note || fail "v2's column is missing"
}

scenario_NothingToMigrate() {
  local ns=$1
  rolled_out_v1 "$ns"
  apply_app "$ns" v1.0.1 >/dev/null
  rolled_out "$ns"
  [ -z "$(plan_of "$ns")" ] || fail "a plan was stamped with nothing to migrate"
  [ "$(jobs_in "$ns")" = 1 ] || fail "a Job ran with nothing to migrate"
  [ "$(events_with "$ns" MigrationStarted)" = 1 ] || fail "a second migration started"
}

scenario_FailedMigration() {
  local ns=$1
  rolled_out_v1 "$ns"
  # The dry-run would catch the missing table; switched off, the run itself fails (two retries, about 30 s of back-off).
  put_migrations "$ns" "$V1" 'V2__backfill.sql=INSERT INTO order_archive (id) VALUES (1);'
  apply_app "$ns" v2 2 'gatekeeper.dev/dry-run: none' >/dev/null
  wait_for 300 "the status says MigrationFailed" reason_is "$ns" MigrationFailed
  message_of "$ns" | grep -q order_archive || fail "the status does not name the database's message: $(message_of "$ns")"
  message_of "$ns" | grep -q "rollout restart deployment/shop" || fail "the status does not say how to roll the fixed files out: $(message_of "$ns")"
  [ "$(events_with "$ns" MigrationFailed)" -ge 1 ] || fail "no MigrationFailed Event"
  [ "$(gated_pods "$ns")" -ge 1 ] || fail "no new pod is held by the scheduling gate"
  [ "$(available_old "$ns")" -ge 2 ] || fail "the old pods stopped serving"
  # The leader counted the failed Job (holderIdentity is <pod>_<suffix>); scraped through the API server's pod proxy.
  kubectl get --raw "/api/v1/namespaces/$system/pods/https:$(leader | cut -d_ -f1):8443/proxy/metrics" | grep -Eq 'gatekeeper_migration_jobs_total\{[^}]*result="failed"' ||
    fail "no failed migration Job in the leader's metrics"
  # Fixed forward: the corrected file, and the template rolled out again (an unchanged apply sends nothing).
  put_migrations "$ns" "$V1" 'V2__backfill.sql=CREATE TABLE order_archive (id bigint); INSERT INTO order_archive (id) VALUES (1);'
  # A retry runs the admitted plan again, which the Job refuses now that the file changed; the status offers the rollout only.
  kubectl -n "$ns" annotate deployment shop gatekeeper.dev/retry=2 --overwrite >/dev/null
  wait_for 300 "the retry is refused as a changed plan" message_has "$ns" 'cannot run again as it is'
  message_of "$ns" | grep -q "gatekeeper.dev/retry" && fail "the status still offers a retry that cannot work: $(message_of "$ns")"
  kubectl -n "$ns" rollout restart deployment/shop >/dev/null
  wait_for 240 "the fixed plan is Applied" reason_is "$ns" Applied
  rolled_out "$ns"
  table_exists "${ns//-/_}" order_archive || fail "the fixed migration did not create order_archive"
}

scenario_Rollback() {
  local ns=$1 db=${1//-/_} plan1 output
  rolled_out_v1 "$ns"
  plan1="$(plan_of "$ns")"
  put_migrations "$ns" "$V1" "$V2"
  apply_app "$ns" v2 >/dev/null
  wait_for 180 "v2's Job succeeded" plan_succeeded "$ns" "$(plan_of "$ns")"
  rolled_out "$ns"
  # An incident: the database is unreachable, and the team rolls back.
  kubectl -n "$ns" create secret generic shop-db --from-literal=url="postgres://orders:e2e-only-password@postgres.$dbns.svc:9/$db" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  output="$(kubectl -n "$ns" rollout undo deployment/shop 2>&1)" || fail "rollout undo was refused: $output"
  echo "$output" | grep -q "${plan1:0:12}" || fail "the rollback's warning does not name plan ${plan1:0:12}: $output"
  rolled_out "$ns"
  [ "$(kubectl -n "$ns" get deploy shop -o jsonpath='{.spec.template.metadata.annotations.e2e\.gatekeeper\.dev/version}')" = v1 ] || fail "v1's template is not back"
  [ "$(jobs_in "$ns")" = 2 ] || fail "the rollback ran a Job"
}

scenario_Scale() {
  local ns=$1
  rolled_out_v1 "$ns"
  v2_job_running "$ns"
  kubectl -n "$ns" scale deployment/shop --replicas=4 >/dev/null
  wait_for 60 "the scale-up's new pods are gated" test "$(gated_pods "$ns")" -ge 2
  rolled_out "$ns"
  # An HPA scales through the same scale subresource: after the migration no new pod waits.
  kubectl -n "$ns" scale deployment/shop --replicas=6 >/dev/null
  rolled_out "$ns" shop 2m
  [ "$(gated_pods "$ns")" = 0 ] || fail "pods of an applied plan are gated"
  [ "$(jobs_in "$ns")" = 2 ] || fail "scaling ran a Job"
}

scenario_OptOut() {
  local ns=$1
  rolled_out_v1 "$ns"
  v2_job_running "$ns"
  kubectl -n "$ns" annotate deployment shop gatekeeper.dev/migrations- gatekeeper.dev/database-secret- >/dev/null
  wait_for 60 "the plan stamp is gone from the template" test -z "$(plan_of "$ns")"
  rolled_out "$ns"
  [ "$(gated_pods "$ns")" = 0 ] || fail "a pod of the opted-out Deployment is gated"
}

scenario_Restart() {
  local ns=$1
  rolled_out_v1 "$ns"
  # What ttlSecondsAfterFinished does a day later (the simulated cluster advances its clock): the Job is deleted.
  kubectl -n "$ns" delete jobs --all --cascade=background >/dev/null
  kubectl -n "$system" rollout restart deployment/gatekeeper >/dev/null
  rolled_out "$system" gatekeeper
  wait_for 120 "a restarted replica holds the Lease" has_leader
  kubectl -n "$ns" delete pod "$(kubectl -n "$ns" get pods -l app=shop -o jsonpath='{.items[0].metadata.name}')" --wait=false >/dev/null
  kubectl -n "$ns" scale deployment/shop --replicas=3 >/dev/null
  rolled_out "$ns" shop 2m
  [ "$(gated_pods "$ns")" = 0 ] || fail "a replacement pod waits for a plan applied before the restart"
  [ "$(jobs_in "$ns")" = 0 ] || fail "the restart ran a Job again"
}

scenario_LeaderLoss() {
  local ns=$1 old
  put_migrations "$ns" 'V1__create_orders.sql=SELECT pg_sleep(30); CREATE TABLE orders (id bigint PRIMARY KEY);'
  apply_app "$ns" v1 >/dev/null
  wait_for 120 "the leader created the Job" job_pod_running "$ns"
  old="$(leader)"
  # The leader's process dies without handing the Lease over: the other replica takes it when it expires.
  kubectl -n "$system" delete pod "${old%_*}" --grace-period=0 --force >/dev/null 2>&1
  wait_for 120 "another replica holds the Lease" leader_is_not "$old"
  wait_for 180 "the Job succeeded" plan_succeeded "$ns" "$(plan_of "$ns")"
  rolled_out "$ns"
  [ "$(jobs_in "$ns")" = 1 ] || fail "the new leader started a second Job"
}

scenario_SharedDatabase() {
  local a=$1-a b=$1-b
  setup_namespace "$a" shared
  kubectl create namespace "$b" >/dev/null
  psql_in shared "CREATE SCHEMA IF NOT EXISTS team_a; CREATE SCHEMA IF NOT EXISTS team_b" >/dev/null
  kubectl -n "$a" create secret generic shop-db --from-literal=url="postgres://orders:e2e-only-password@postgres.$dbns.svc:5432/shared?search_path=team_a" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl -n "$b" create secret generic shop-db --from-literal=url="postgres://orders:e2e-only-password@postgres.$dbns.svc:5432/shared?search_path=team_b" >/dev/null
  put_migrations "$a" "$V1"
  # team-b's migration takes a while: team-a's success meanwhile must not release team-b's pods.
  put_migrations "$b" 'V1__create_orders.sql=SELECT pg_sleep(25); CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2));'
  apply_app "$b" v1 >/dev/null
  wait_for 120 "team-b's Job runs" job_pod_running "$b"
  apply_app "$a" v1 >/dev/null
  rolled_out "$a"
  if plan_succeeded "$b" "$(plan_of "$b")"; then fail "team-b's Job finished too early to tell"; fi
  [ "$(gated_pods "$b")" -ge 1 ] || fail "team-a's success released team-b's pods"
  rolled_out "$b"
  [ "$(psql_in shared "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'team_b' AND table_name = 'orders'")" = 1 ] || fail "team-b's table is missing"
}

scenario_Forged() {
  local ns=$1 attacker=$1-attacker job
  put_migrations "$ns" 'V1__create_orders.sql=SELECT pg_sleep(30); CREATE TABLE orders (id bigint PRIMARY KEY);'
  apply_app "$ns" v1 >/dev/null
  wait_for 120 "shop's Job runs" job_pod_running "$ns"
  job="$(kubectl -n "$ns" get jobs -o jsonpath='{.items[0].metadata.name}')"
  kubectl create namespace "$attacker" >/dev/null
  # Someone who may create Jobs in their own namespace copies the real Job's labels and annotations onto one that succeeds.
  kubectl -n "$ns" get job "$job" -o json | jq --arg ns "$attacker" '{apiVersion, kind, metadata: {name: .metadata.name, namespace: $ns,
      labels: .metadata.labels, annotations: .metadata.annotations},
      spec: {backoffLimit: 0, template: {metadata: {labels: .metadata.labels}, spec: {restartPolicy: "Never",
      containers: [{name: "migrate", image: "busybox:1.36", command: ["true"]}]}}}}' | kubectl apply -f - >/dev/null
  wait_for 120 "the forged Job completed" test -n "$(kubectl -n "$attacker" get jobs -o jsonpath='{.items[?(@.status.succeeded==1)].metadata.name}')"
  if plan_succeeded "$ns" "$(plan_of "$ns")"; then fail "shop's Job finished too early to tell"; fi
  [ "$(gated_pods "$ns")" -ge 1 ] || fail "the forged Job released shop's pods"
  rolled_out "$ns"
}

scenario_WatchNamespaces() {
  local ns=$1
  trap "helm_gatekeeper --reuse-values --set-json 'watchNamespaces=[]'" EXIT
  helm_gatekeeper --reuse-values --set "watchNamespaces={$ns}"
  rolled_out_v1 "$ns"
  [ "$(jobs_in "$ns")" = 1 ] || fail "expected exactly one Job under watchNamespaces"
}

scenario_LeastPrivilege() {
  local ns=$1 unlisted=$1-unlisted output
  # The chart's default (no cluster-wide Secret reads), with this namespace listed as a team opting in would.
  trap "helm_gatekeeper --reuse-values --set rbac.readSecretsClusterWide=true --set-json 'sourceNamespaces=[]'" EXIT
  helm_gatekeeper --reuse-values --set rbac.readSecretsClusterWide=false --set "sourceNamespaces={$ns}"
  setup_namespace "$unlisted"
  put_migrations "$unlisted" "$V1"
  if output="$(apply_app "$unlisted" v1 1)"; then fail "a Deployment in an unlisted namespace was admitted: $output"; fi
  echo "$output" | grep -q "add $unlisted to the chart's sourceNamespaces" || fail "the denial does not name the value to set: $output"
  rolled_out_v1 "$ns"
}

scenario_DryRun() {
  local ns=$1 output
  put_migrations "$ns" "$V1"
  output="$(app "$ns" v1 | kubectl apply --dry-run=server -o jsonpath='{.spec.template.metadata.annotations.gatekeeper\.dev/plan}' -f - 2>&1)" ||
    fail "the server-side dry run was refused: $output"
  [ -n "$output" ] || fail "the dry run's answer carries no plan"
  if kubectl -n "$ns" get deploy shop >/dev/null 2>&1; then fail "the dry run stored the Deployment"; fi
  [ "$(jobs_in "$ns")" = 0 ] || fail "the dry run created a Job"
  [ -z "$(kubectl -n "$ns" get events --field-selector involvedObject.kind=Deployment -o name)" ] || fail "the dry run recorded an Event"
  if table_exists "${ns//-/_}" orders; then fail "the dry run ran DDL"; fi
}

scenario_Paused() {
  local ns=$1
  rolled_out_v1 "$ns"
  kubectl -n "$ns" rollout pause deployment/shop >/dev/null
  put_migrations "$ns" "$V1" "$V2"
  apply_app "$ns" v2 >/dev/null
  # Nothing may start while paused: a bounded look (a real cluster has no clock to advance).
  sleep 20
  [ "$(jobs_in "$ns")" = 1 ] || fail "v2's Job was created while the Deployment was paused"
  kubectl -n "$ns" rollout resume deployment/shop >/dev/null
  wait_for 180 "v2's Job succeeded after the resume" plan_succeeded "$ns" "$(plan_of "$ns")"
  rolled_out "$ns"
}

scenario_Recreate() {
  local ns=$1 output
  put_migrations "$ns" "$V1"
  output="$(APP=billing STRATEGY='  strategy: {type: Recreate}' apply_app "$ns" v1)"
  echo "$output" | grep -q Recreate || fail "no warning about Recreate: $output"
  output="$(STRATEGY='  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 25%, maxSurge: 25%}}' apply_app "$ns" v1 4)"
  echo "$output" | grep -q maxUnavailable || fail "no warning about maxUnavailable: $output"
}

scenario_PullFail() {
  local ns=$1
  # The migration Job's image cannot be pulled: the controller's Job image option (set by the chart from image.*)
  # overridden through extraEnv, which the container lists after it (the later entry wins).
  trap "helm_gatekeeper --reuse-values --set-json 'extraEnv=[]'" EXIT
  helm_gatekeeper --reuse-values --set-json 'extraEnv=[{"name":"Controller__Image","value":"registry.invalid/gatekeeper:missing"},{"name":"Controller__ImagePullPolicy","value":"Always"}]'
  put_migrations "$ns" "$V1"
  apply_app "$ns" v1 >/dev/null
  wait_for 90 "the pull failure reaches the Deployment's status" sh -c "kubectl -n $ns get deploy shop -o jsonpath='{.status.conditions}' | grep -q ImagePull"
  kubectl -n "$ns" get events -o jsonpath='{.items[*].message}' | grep -qi pull || fail "no Event mentions the pull"
  [ "$(gated_pods "$ns")" -ge 1 ] || fail "the pods are not held"
}

scenario_Unreachable() {
  local ns=$1 output
  rolled_out_v1 "$ns"
  trap 'kubectl -n kube-system delete deployment dns --ignore-not-found >/dev/null; kubectl -n "$system" scale deployment/gatekeeper --replicas=2 >/dev/null;
        rolled_out "$system" gatekeeper; wait_for 120 "a replica holds the Lease again" has_leader' EXIT
  kubectl -n "$system" scale deployment/gatekeeper --replicas=0 >/dev/null
  wait_for 120 "Gatekeeper's pods are gone" test -z "$(kubectl -n "$system" get pods -l app.kubernetes.io/name=gatekeeper -o name)"
  if output="$(APP=billing apply_app "$ns" v1 1)"; then fail "an opted-in Deployment was admitted without Gatekeeper: $output"; fi
  echo "$output" | grep -q "failed calling webhook" || fail "the refusal is not the webhook's: $output"
  # Everything else proceeds: a Deployment that did not opt in, and kube-system, opted in or not.
  OPT_IN=0 APP=plain apply_app "$ns" v1 1 >/dev/null
  APP=dns apply_app kube-system v1 1 >/dev/null
  rolled_out "$ns" plain 2m
  rolled_out kube-system dns 2m
  # Scaling goes through the scale subresource, which no webhook sees; the new pod is refused: FailedCreate.
  kubectl -n "$ns" scale deployment/shop --replicas=3 >/dev/null
  wait_for 60 "the ReplicaSet could not create the new pod" sh -c "kubectl -n $ns get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep -q 'failed calling webhook'"
}

# --- the run -----------------------------------------------------------------------------------------------------------

mapfile -t listed < <(awk '!/^#/ && NF { print $1 }' "$list")
selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${listed[@]}")
for name in "${selected[@]}"; do
  printf '%s\n' "${listed[@]}" | grep -qx "$name" || { echo "FAILED: $name is not in $list" >&2; exit 1; }
  declare -F "scenario_$name" >/dev/null || { echo "FAILED: $list lists $name but this script has no scenario_$name" >&2; exit 1; }
done

step "cluster $cluster"
created_cluster=0
if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind create cluster --config kind-config.yaml --name "$cluster" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 180s
  created_cluster=1
fi
mkdir -p .tmp/e2e
kind get kubeconfig --name "$cluster" >.tmp/e2e/kubeconfig
export KUBECONFIG="$root/.tmp/e2e/kubeconfig"

step "image $image, chart and database"
docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"
# Each scenario has a namespace of its own, so Gatekeeper reads Secrets cluster-wide (LeastPrivilege checks the default).
helm_gatekeeper --set rbac.readSecretsClusterWide=true
kubectl apply -f "$here/postgres.yaml" >/dev/null
kubectl -n "$dbns" rollout status deployment/postgres --timeout=5m

passed=0
failed=()
for name in "${selected[@]}"; do
  ns="e2e-$(echo "$name" | tr '[:upper:]' '[:lower:]')"
  step "$name"
  kubectl delete namespace "$ns" "$ns-a" "$ns-b" "$ns-attacker" "$ns-unlisted" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  case "$name" in SharedDatabase) ;; *) setup_namespace "$ns" ;; esac
  # Not in a condition: errexit holds inside the subshell (bash ignores it in a tested command).
  set +e
  (set -e; "scenario_$name" "$ns")
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    diagnose "$ns"
    failed+=("$name")
  fi
done

step "done: ${passed} passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
[ "${#failed[@]}" -eq 0 ]
