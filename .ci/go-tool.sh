#!/usr/bin/env bash
# Test-only command-line tools built from their Go modules with `go install` (Go and the module
# proxy only; no other network access): helm (chart lint/template, test/integration/helm-chart*)
# and promtool (alert rules check and unit tests).
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
# promtool: Prometheus 3.x's module is published as v0.3xx.y (v0.316.0 = Prometheus 3.16.0).
declare -A MODULE=(
  [helm]=helm.sh/helm/v3/cmd/helm
  [promtool]=github.com/prometheus/prometheus/cmd/promtool
)
declare -A VERSION=(
  [helm]=v3.19.5
  [promtool]=v0.316.0
)

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/sts-sidecar"
BIN_DIR="$CACHE_DIR/bin"

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
  command -v go >/dev/null || {
    log "go is not installed; $tool is built from source"
    exit 1
  }
  mkdir -p "$BIN_DIR"
  log "building $module@$version with $(go version)"
  local start=$SECONDS
  # Same isolation as minio.sh: our own GOPATH and caches, no toolchain download, no cgo.
  GOPATH="$CACHE_DIR/go" \
    GOMODCACHE="$CACHE_DIR/go/mod" \
    GOCACHE="$CACHE_DIR/go/build" \
    GOBIN="$BIN_DIR" \
    GOFLAGS=-buildvcs=false \
    GOTOOLCHAIN=local \
    CGO_ENABLED=0 \
    go install "$module@$version"
  printf '%s\n' "$module@$version" >"$version_file"
  log "built $bin_path in $((SECONDS - start)) s"
}

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
