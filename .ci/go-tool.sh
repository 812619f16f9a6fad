#!/usr/bin/env bash
# Test-only command-line tools built from their Go modules with `go install` (Go and the module
# proxy only; no other network access): helm (chart lint/template, test/integration/helm-chart*),
# promtool (alert rules check and unit tests) and prometheus (the server the Prometheus e2e suite,
# test/e2e/prometheus.e2e.test.ts, runs against the real cluster).
#
#   bash .ci/go-tool.sh install <tool>   builds the pinned <tool> into $BIN_DIR (idempotent)
#   bash .ci/go-tool.sh bin <tool>       prints the binary's path (exit 1 when not installed)
#   bash .ci/go-tool.sh version <tool>   prints the pinned module version and the tool's own
#
# Tests find the binaries with `bin` (test/helpers/go-tools.ts) and skip with the reason when a
# tool is missing, so `npm test` on a machine without them still passes; `.ci/run` installs them.
# Module and build caches are shared with .ci/peers/minio.sh under ~/.cache/sts-sidecar, which
# the CI machines keep between runs.
set -euo pipefail

# Pinned versions. helm: the v3 line (the chart is apiVersion v2, which helm 3 and 4 read).
# promtool: Prometheus 3.x's module is published as v0.3xx.y (v0.315.0 = Prometheus 3.15.0).
# Not v0.316.0: it requires github.com/hashicorp/nomad/api@v0.0.0-20261016150620-df630b26e78a,
# which the module proxy answers 403 Forbidden. v0.315.0's nomad/api pseudo-version is served.
declare -A MODULE=(
  [helm]=helm.sh/helm/v3/cmd/helm
  [promtool]=github.com/prometheus/prometheus/cmd/promtool
  [prometheus]=github.com/prometheus/prometheus/cmd/prometheus
)
declare -A VERSION=(
  [helm]=v3.19.5
  [promtool]=v0.315.0
)
# The server and promtool come from one module version, so the rules the unit tests check are
# evaluated by the same engine that pages in the e2e suite.
VERSION[prometheus]=${VERSION[promtool]}
# How each tool is built. install: `go install module@version`. wrapped: inside a throwaway main
# module that requires the tool's module and copies its replace directives. Prometheus's go.mod
# has one (cloud.google.com/go, v0.313.x to v0.315.0), and `go install module@version` refuses any
# module whose go.mod has replaces ("must not contain directives that would cause it to be
# interpreted differently than if it were the main module"); as the main module's they apply.
declare -A BUILD=(
  [helm]=install
  [promtool]=wrapped
  [prometheus]=wrapped
)
# -X flags for the tool's --version (go build stamps no version of its own). v0.315.0 -> 3.15.0.
prometheus_release=${VERSION[promtool]#v0.}
prometheus_release=${prometheus_release:0:1}.${prometheus_release:1}
# Build tags. remove_all_sd: Prometheus's service-discovery plugins (cloud SDKs, client-go) are
# behind this tag (plugins/plugin_*.go); promtool's rule check and unit tests need none of them,
# and leaving them out is most of a cold build. The server keeps Kubernetes SD only:
# enable_kubernetes_sd re-enables plugins/plugin_kubernetes.go (`!remove_all_sd ||
# enable_kubernetes_sd`). No builtinassets tag: web/ui/ui.go then serves the UI from ./web/ui on
# disk (absent here), so the build needs no Node/pnpm UI build; the HTTP API the tests use is
# unaffected.
declare -A TAGS=(
  [helm]=""
  [promtool]="remove_all_sd"
  [prometheus]="remove_all_sd,enable_kubernetes_sd"
)
declare -A LDFLAGS=(
  [helm]=""
  [promtool]="-X github.com/prometheus/common/version.Version=$prometheus_release -X github.com/prometheus/common/version.Branch=${VERSION[promtool]}"
)
LDFLAGS[prometheus]=${LDFLAGS[promtool]}

# shellcheck source=lib/go-build-env.sh
source "$(dirname "$0")/lib/go-build-env.sh"

log() { printf '[go-tool.sh] %s\n' "$*" >&2; }

usage() {
  echo "usage: $0 install|bin|version ${!MODULE[*]}" >&2
  exit 2
}

tool="${2:-}"
[[ -n $tool && -n ${MODULE[$tool]:-} ]] || usage
module="${MODULE[$tool]}"
version="${VERSION[$tool]}"
bin_path="$BIN_DIR/$tool"
# Written after a successful build: `go install` builds print no module version of their own.
version_file="$BIN_DIR/$tool.version"

installed() {
  [[ -x "$bin_path" && -f "$version_file" && "$(cat "$version_file")" == "$module@$version" ]]
}

install() {
  if installed; then
    log "already installed: $bin_path ($(cat "$version_file"))"
    return 0
  fi
  require_go "$tool"
  log "building $module@$version with $(go version)"
  local start=$SECONDS
  export_go_build_env
  case "${BUILD[$tool]}" in
    install) go install -tags="${TAGS[$tool]}" -ldflags="${LDFLAGS[$tool]}" "$module@$version" ;;
    wrapped) build_wrapped ;;
  esac
  printf '%s\n' "$module@$version" >"$version_file"
  log "built $bin_path in $((SECONDS - start)) s"
}

# Builds $module at $version from a temporary main module (see BUILD above). The dependency
# versions are the tool module's own requirements (MVS over its go.mod), as with go install.
build_wrapped() (
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  root_module=${module%%/cmd/*}
  gomod=$(go mod download -json "$root_module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || {
    log "cannot download $root_module@$version"
    exit 1
  }
  cd "$work"
  go mod init "$tool-build" >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$module" >tools.go
  go mod edit -require="$root_module@$version"
  # Single-line replace directives only; a replace block would need this extended.
  grep -E '^replace [^(]' "$gomod" | while read -r _ from _ to to_version; do
    go mod edit -replace="$from=$to@$to_version"
  done
  # No `go mod tidy` (it resolves every package under every build tag, SD plugins included):
  # -mod=mod records only what this build needs.
  go build -mod=mod -tags="${TAGS[$tool]}" -ldflags="${LDFLAGS[$tool]}" -o "$BIN_DIR/$tool" "$module"
)

bin() {
  installed || {
    log "$tool is not installed: run bash .ci/go-tool.sh install $tool"
    exit 1
  }
  printf '%s\n' "$bin_path"
}

version() {
  bin >/dev/null
  local own
  case "$tool" in
    helm) own=$("$bin_path" version --short 2>&1 | head -n 1) ;;
    *) own=$("$bin_path" --version 2>&1 | head -n 1) ;;
  esac
  printf '%s (%s)\n' "$(cat "$version_file")" "$own"
}

case "${1:-}" in
  install) install ;;
  bin) bin ;;
  version) version ;;
  *) usage ;;
esac
