#!/usr/bin/env bash
# The CustomResourceDefinitions the chart's optional modes create objects of, for the Kubernetes
# e2e suite's value-set check: cert-manager's Certificate and Issuer (tls.mode=cert-manager) and
# the Prometheus Operator's PodMonitor, ServiceMonitor and PrometheusRule (monitoring values).
# No container or chart registry is reachable here, but both projects ship their CRDs inside
# their Go modules, which the Go module proxy serves.
#
#   bash .ci/crds.sh install   downloads the pinned modules, writes the CRDs to $CACHE_DIR/crds/
#   bash .ci/crds.sh dir       prints that directory (exit 1 when not installed)
set -euo pipefail

# cert-manager: deploy/crds/ holds its Helm chart's CRD templates. Prometheus Operator: v0.85.0
# is the newest release the proxy serves here (later ones answer 403); its
# example/prometheus-operator-crd/ holds the generated CRDs.
readonly CERT_MANAGER=github.com/cert-manager/cert-manager@v1.18.2
readonly PROMETHEUS_OPERATOR=github.com/prometheus-operator/prometheus-operator@v0.85.0

# shellcheck source=lib/go-build-env.sh
source "$(dirname "$0")/lib/go-build-env.sh"
readonly CRD_DIR="$CACHE_DIR/crds"
readonly STAMP="$CRD_DIR/versions"

log() { printf '[crds.sh] %s\n' "$*" >&2; }

module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

install() {
  if [[ -f $STAMP && "$(cat "$STAMP")" == "$CERT_MANAGER $PROMETHEUS_OPERATOR" ]]; then
    log "already installed: $CRD_DIR"
    return 0
  fi
  command -v go >/dev/null || {
    log "go is not installed; the CRDs come from Go modules"
    exit 1
  }
  export_go_build_env
  local cm po
  cm=$(module_dir "$CERT_MANAGER")
  po=$(module_dir "$PROMETHEUS_OPERATOR")
  [[ -d $cm && -d $po ]] || {
    log "cannot download $CERT_MANAGER or $PROMETHEUS_OPERATOR from the module proxy"
    exit 1
  }
  rm -rf "$CRD_DIR"
  mkdir -p "$CRD_DIR"
  local kind
  for kind in podmonitors servicemonitors prometheusrules; do
    cp "$po/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$CRD_DIR/"
  done
  # The chart templates' only non-comment template expressions are three label values; as
  # plain YAML they would be invalid labels, and a CRD needs none.
  for kind in certificates issuers; do
    grep -v -E "^[[:space:]]+app(\.kubernetes\.io/(name|instance))?: '\{\{" \
      "$cm/deploy/crds/crd-$kind.yaml" >"$CRD_DIR/cert-manager.io_$kind.yaml"
  done
  printf '%s %s\n' "$CERT_MANAGER" "$PROMETHEUS_OPERATOR" >"$STAMP"
  log "installed $(find "$CRD_DIR" -name '*.yaml' | wc -l) CRDs into $CRD_DIR"
}

dir() {
  [[ -f $STAMP ]] || {
    log "the CRDs are not installed: run bash .ci/crds.sh install"
    exit 1
  }
  printf '%s\n' "$CRD_DIR"
}

case "${1:-}" in
  install) install ;;
  dir) dir ;;
  *)
    echo "usage: $0 install|dir" >&2
    exit 2
    ;;
esac
