#!/usr/bin/env bash
# Gatekeeper on a real cluster, end to end: creates a kind cluster from kind-config.yaml, builds the image and loads
# it into the nodes, installs the chart and the example databases, then walks the demo shop through three versions:
#   v1  first apply: one migration Job creates the tables, the pods start once it has succeeded;
#   v2  a safe migration: the new pods wait behind the scheduling gate until its Job succeeds, v1 keeps serving;
#   v3  an unsafe migration: kubectl apply is denied with the finding, nothing is migrated, v2 keeps running;
# plus the MySQL demo (inventory), and prints Gatekeeper's metrics, which count all of it.
#
# Needs Docker and kind; without them it prints one "SKIPPED: …" line and exits 0. helm and kubectl come from
# scripts/ci/delivery-tools.sh. The cluster is deleted at the end unless KEEP_CLUSTER=1.
#
#   scripts/kind/walkthrough.sh            run it
#   scripts/kind/walkthrough.sh --delete   delete the cluster
# Environment: KIND_CLUSTER (name, default gatekeeper), KIND_NODE_IMAGE (e.g. kindest/node:v1.33.1), KEEP_CLUSTER=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cluster="${KIND_CLUSTER:-gatekeeper}"
system=gatekeeper-system
demo=gatekeeper-demo
image=gatekeeper:walkthrough
started=$SECONDS

skip() { echo "SKIPPED: $*"; exit 0; }
command -v docker >/dev/null 2>&1 || skip "the kind walk-through needs Docker, and docker is not installed here"
docker info >/dev/null 2>&1 || skip "the kind walk-through needs a running Docker engine, and none is reachable (docker info failed)"
command -v kind >/dev/null 2>&1 || skip "the kind walk-through needs kind (kind.sigs.k8s.io), and it is not installed here"

if [ "${1:-}" = "--delete" ]; then
  kind delete cluster --name "$cluster"
  exit 0
fi

# shellcheck source=scripts/ci/delivery-tools.sh
source scripts/ci/delivery-tools.sh
delivery_install_helm_kubectl

step() { printf '\n== %s (%d s)\n' "$*" "$((SECONDS - started))"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

diagnose() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- diagnostics (exit $status)" >&2
    kubectl get pods,jobs -A -o wide >&2 || true
    kubectl -n "$demo" get events --sort-by=.lastTimestamp 2>/dev/null | tail -20 >&2 || true
    kubectl -n "$system" logs deployment/gatekeeper --tail=80 >&2 || true
  fi
  if [ "${KEEP_CLUSTER:-}" != "1" ] && [ "${created_cluster:-}" = "1" ]; then
    kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  fi
}
trap diagnose EXIT

step "cluster $cluster"
created_cluster=0
if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind create cluster --config kind-config.yaml --name "$cluster" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 180s
  created_cluster=1
fi
mkdir -p .tmp/kind
kind get kubeconfig --name "$cluster" >.tmp/kind/kubeconfig
export KUBECONFIG="$root/.tmp/kind/kubeconfig"
minor="$(kubectl version -o json | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | tail -1)"
[ "${minor:-0}" -ge 30 ] || fail "the cluster runs Kubernetes 1.${minor:-?}; Gatekeeper needs 1.30 or later (set KIND_NODE_IMAGE)"

step "image $image"
docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"

step "install the chart"
helm upgrade --install gatekeeper charts/gatekeeper --namespace "$system" --create-namespace \
  --set image.repository="${image%%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
  --set "sourceNamespaces={$demo}" \
  --wait --timeout 5m
kubectl -n "$system" get pods -o wide

step "example databases"
kubectl apply -f manifests/examples/00-namespace.yaml -f manifests/examples/postgres.yaml -f manifests/examples/mysql.yaml
kubectl -n "$demo" rollout status deployment/postgres --timeout=5m
kubectl -n "$demo" rollout status deployment/mysql --timeout=5m

# The plan stamped on a Deployment's pod template, as the Job's label carries it (at most 63 characters).
plan_label() {
  kubectl -n "$demo" get deployment "$1" -o jsonpath='{.spec.template.metadata.annotations.gatekeeper\.dev/plan}' | cut -c1-63
}

# Waits for the migration Job of the Deployment's current plan to exist and complete.
wait_for_migration() {
  local deployment="$1" label
  label="$(plan_label "$deployment")"
  [ -n "$label" ] || fail "$deployment carries no gatekeeper.dev/plan stamp: the mutating webhook did not plan it"
  for _ in $(seq 1 120); do
    kubectl -n "$demo" get jobs -l "gatekeeper.dev/plan=$label" -o name | grep -q . && break
    sleep 1
  done
  kubectl -n "$demo" get jobs -l "gatekeeper.dev/plan=$label"
  kubectl -n "$demo" wait --for=condition=complete job -l "gatekeeper.dev/plan=$label" --timeout=5m
}

gated_pods() {
  kubectl -n "$demo" get pods -l app.kubernetes.io/name=shop \
    -o jsonpath='{range .items[?(@.spec.schedulingGates)]}{.metadata.name}{"\n"}{end}'
}

step "shop v1: first rollout"
kubectl apply -f manifests/examples/shop-v1.yaml
wait_for_migration shop
kubectl -n "$demo" rollout status deployment/shop --timeout=5m

step "shop v2: a safe migration, new pods held until it is applied"
kubectl apply -f manifests/examples/shop-v2.yaml
seen_gated=""
for _ in $(seq 1 60); do
  seen_gated="$(gated_pods)"
  [ -n "$seen_gated" ] && break
  sleep 0.5
done
if [ -n "$seen_gated" ]; then
  echo "held by the gatekeeper.dev/migration scheduling gate:"
  kubectl -n "$demo" get pods -l app.kubernetes.io/name=shop \
    -o custom-columns=NAME:.metadata.name,VERSION:.metadata.labels.app\\.kubernetes\\.io/version,PHASE:.status.phase,GATES:.spec.schedulingGates[*].name
else
  echo "note: the Job finished before a gated pod could be seen"
fi
wait_for_migration shop
kubectl -n "$demo" rollout status deployment/shop --timeout=5m
[ -z "$(gated_pods)" ] || fail "pods are still gated after the v2 migration succeeded: $(gated_pods)"
kubectl -n "$demo" describe deployment shop | sed -n '/^Events:/,$p'

step "shop v3: an unsafe migration, rejected at kubectl apply"
echo "first without side effects (--dry-run=server):"
if kubectl apply --dry-run=server -f manifests/examples/shop-v3-unsafe.yaml 2>.tmp/kind/v3-dry-run.txt; then
  fail "the server-side dry run admitted shop v3"
fi
cat .tmp/kind/v3-dry-run.txt
if kubectl apply -f manifests/examples/shop-v3-unsafe.yaml 2>.tmp/kind/v3.txt; then
  fail "shop v3 (it drops a column v2 reads) was admitted"
fi
cat .tmp/kind/v3.txt
grep -q "denied the request" .tmp/kind/v3.txt || fail "kubectl apply of v3 failed, but not with Gatekeeper's denial"
version="$(kubectl -n "$demo" get deployment shop -o jsonpath='{.spec.template.metadata.labels.app\.kubernetes\.io/version}')"
[ "$version" = "v2" ] || fail "the shop Deployment runs $version after the rejected v3; expected v2"
echo "shop still runs $version"

step "inventory: the MySQL demo (shadow dry-run)"
kubectl apply -f manifests/examples/inventory-mysql.yaml
wait_for_migration inventory
kubectl -n "$demo" rollout status deployment/inventory --timeout=5m

step "Gatekeeper's metrics (every replica)"
port="$(kubectl -n "$system" get deployment gatekeeper -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}')"
for pod in $(kubectl -n "$system" get pods -l app.kubernetes.io/name=gatekeeper -o jsonpath='{.items[*].metadata.name}'); do
  echo "# $pod"
  # Through the API server's pod proxy: each replica counts only the requests it answered.
  kubectl get --raw "/api/v1/namespaces/$system/pods/https:$pod:$port/proxy/metrics" | grep -E '^gatekeeper_' | grep -v '_bucket{' || true
done >.tmp/kind/metrics.txt
cat .tmp/kind/metrics.txt
grep -q 'gatekeeper_plan_rejections_total{.*deployment="shop"' .tmp/kind/metrics.txt || fail "no replica counted the rejection of shop v3"
grep -q '^gatekeeper_admission_requests_total{' .tmp/kind/metrics.txt || fail "no admission requests were counted"

step "done"
echo "walkthrough: passed in $((SECONDS - started)) s"
