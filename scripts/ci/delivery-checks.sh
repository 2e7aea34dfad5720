#!/usr/bin/env bash
# The delivery checks that need helm or promtool: the Helm chart lints and renders under its default and feature-flag
# values, refuses bad values, renders only well-formed objects that agree with the server's endpoints and annotation
# names, manifests/install.yaml is the chart's default render, and the alert rules pass promtool's checks and unit
# tests; and the hand-run benchmarks still build. No cluster and no kubectl needed. Ends with one line:
# "delivery: N passed, N failed".
#
# Everything that can be judged from the files in the repository alone (the default install's RBAC against the code's
# calls, chart values against the options, the example manifests, the container image, the alerts' metrics and
# runbooks, the chart's copy of the rules) is tests/Gatekeeper.Delivery.Tests, run by scripts/test.sh: each check
# lives in one of the two places, never both.
#
#   scripts/ci/delivery-checks.sh            run the checks
#   scripts/ci/delivery-checks.sh --update   first rewrite manifests/install.yaml and the chart's copy of the rules
# DELIVERY_SOURCES=dir checks against C# sources elsewhere (default src/), e.g. another branch's `git archive`.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root" || exit 1
chart=charts/gatekeeper
release=gatekeeper
namespace=gatekeeper-system
work=.tmp/delivery
sources="${DELIVERY_SOURCES:-src}"
rm -rf "$work" && mkdir -p "$work/rendered" "$work/logs"

# shellcheck source=scripts/ci/delivery-tools.sh
source scripts/ci/delivery-tools.sh
delivery_install_helm_kubectl || { echo "could not install helm and kubectl"; echo "delivery: 0 passed, 1 failed"; exit 1; }
delivery_install_promtool || { echo "could not install promtool"; echo "delivery: 0 passed, 1 failed"; exit 1; }
delivery_install_python || { echo "could not install python3-yaml"; echo "delivery: 0 passed, 1 failed"; exit 1; }
delivery_install_lua || { echo "could not install lua5.4"; echo "delivery: 0 passed, 1 failed"; exit 1; }
structure() { "$DELIVERY_PYTHON" scripts/ci/delivery-structure.py "$@"; }

started=$SECONDS
passed=0
failed=0
# check NAME COMMAND...: runs the command, counts it, and shows its output only when it fails.
check() {
  local name="$1" log
  shift
  log="$work/logs/$(echo "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
    sed 's/^/      /' "$log" | head -60
  fi
}

render() { # render NAME [helm args...] → $work/rendered/NAME.yaml
  local name="$1"
  shift
  helm template "$release" "$chart" --namespace "$namespace" "$@" >"$work/rendered/$name.yaml"
}

must_refuse() { # must_refuse VALUES_FILE: rendering fails with the message on the file's "# expect:" line
  local values="$1" expected output
  expected="$(sed -n 's/^# expect: //p' "$values")"
  [ -n "$expected" ] || { echo "$values has no '# expect:' line"; return 1; }
  if output="$(helm template "$release" "$chart" --namespace "$namespace" -f "$values" 2>&1)"; then
    echo "rendered, but these values must be refused:"; cat "$values"; return 1
  fi
  grep -qF -- "$expected" <<<"$output" || { echo "refused, but not with \"$expected\":"; echo "$output"; return 1; }
}

if [ "${1:-}" = "--update" ]; then
  cp alerts/gatekeeper.rules.yaml "$chart/files/gatekeeper.rules.yaml"
  render default && structure install "$work/rendered/default.yaml" manifests/install.yaml
  echo "updated manifests/install.yaml and $chart/files/gatekeeper.rules.yaml"
fi

echo "helm $(helm version --short), $(kubectl version --client 2>/dev/null | head -1), $(promtool --version 2>&1 | head -1)"

# 1. Lint and render: defaults and every feature-flag combination in charts/gatekeeper/ci/.
check "helm lint (defaults)" helm lint --strict "$chart" --namespace "$namespace"
check "helm template (defaults)" render default
for values in "$chart"/ci/*-values.yaml; do
  combo="$(basename "$values" -values.yaml)"
  check "helm lint ($combo)" helm lint --strict "$chart" --namespace "$namespace" -f "$values"
  check "helm template ($combo)" render "$combo" -f "$values"
done
# The same chart under another release name and namespace (names and exclusions must follow them).
other_release() { helm template gk "$chart" --namespace platform >"$work/rendered/other-release.yaml"; }
check "helm template (release gk in namespace platform)" other_release

# GitOps renders with helm template and compares: two renders of the same values must be byte-identical (no genCA,
# randAlphaNum, lookup or now), or Argo CD never settles and every sync changes something.
twice() { # twice [helm args...]
  helm template "$release" "$chart" --namespace "$namespace" "$@" >"$work/first.yaml" \
    && helm template "$release" "$chart" --namespace "$namespace" "$@" >"$work/second.yaml" \
    && cmp "$work/first.yaml" "$work/second.yaml" \
    && ! grep -nE '^\s*caBundle:' "$work/first.yaml"
}
check "two renders are byte-identical (defaults)" twice
for values in "$chart"/ci/*-values.yaml; do
  check "two renders are byte-identical ($(basename "$values" -values.yaml))" twice -f "$values"
done

# NOTES.txt renders for every combination (helm install --dry-run=client needs no cluster).
notes() {
  local values
  for values in "" "$chart"/ci/*-values.yaml; do
    helm install "$release" "$chart" --namespace "$namespace" --dry-run=client ${values:+-f "$values"} | grep -q '^NOTES:' \
      || { echo "no NOTES rendered with ${values:-the defaults}"; return 1; }
  done
}
check "NOTES.txt renders (defaults and every combination)" notes

# 2. Values the chart must refuse (charts/gatekeeper/ci/invalid/, each with its expected message).
for values in "$chart"/ci/invalid/*-values.yaml; do
  check "refuses $(basename "$values" -values.yaml)" must_refuse "$values"
done

# 3. Structure of every render: known kinds, required fields, selectors, probes and webhook paths against the
#    endpoints in src/, the opt-in annotations in matchConditions, namespace exclusions, caBundle vs certificate.
for file in "$work"/rendered/*.yaml; do
  combo="$(basename "$file" .yaml)"
  ns="$namespace"
  [ "$combo" = other-release ] && ns=platform
  check "structure ($combo)" structure check --namespace "$ns" --sources "$sources" "$file"
done
# Least privilege by default: Secrets are read only in the namespaces listed for it (RoleBindings), never cluster-wide
# (install.yaml is held to the same by RbacTests).
check "the default install binds no ClusterRole that reads Secrets" structure no-cluster-secrets "$work/rendered/default.yaml" "$work/rendered/other-release.yaml"

# The GitOps examples (docs/gitops/): Argo CD's health check for Deployments runs on Deployments in every state.
check "docs/gitops/argocd-health.lua (Argo CD health)" lua5.4 scripts/ci/argocd-health-test.lua docs/gitops/argocd-health.lua

# 4. manifests/install.yaml is the default render (that the chart ships the plain rules file unchanged is a
#    Delivery test).
check "manifests/install.yaml is fresh" structure fresh "$work/rendered/default.yaml" manifests/install.yaml

# 5. Alerts: syntax, then behaviour on synthetic series.
check "promtool check rules" promtool check rules alerts/gatekeeper.rules.yaml
check "promtool test rules" promtool test rules alerts/gatekeeper.rules.test.yaml

# 6. The benchmarks are not in the solution (they are run by hand), but they reference the test kit: a change
#    there must not leave them unbuildable.
for project in bench/*/*.csproj; do
  check "bench builds: $(basename "$project" .csproj)" dotnet build "$project" -c Release -v q -nologo
done

echo "checks took $((SECONDS - started)) s"
echo "delivery: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
