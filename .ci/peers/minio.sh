#!/usr/bin/env bash
# MinIO server for the MinIO e2e suite (test/e2e/minio.e2e.test.ts), built from its Go module
# with `go install` (needs Go >= 1.24 and the Go module proxy; no other network access).
#
#   bash .ci/peers/minio.sh install   builds the pinned MinIO into $BIN_DIR (idempotent)
#   bash .ci/peers/minio.sh bin       prints the binary's path (exit 1 when not installed)
#   bash .ci/peers/minio.sh version   prints the pinned module version and `minio --version`
#
# There is no `start`/`stop` here on purpose: MinIO fetches the OIDC discovery document and JWKS
# once, at start-up, so it must start after the test's issuer (a random port, per suite). The test
# starts MinIO itself on 127.0.0.1 (test/helpers/minio-server.ts) and stops it by its PID.
#
# The Go module and build caches live under the same cache dir as the binary, so a CI machine
# that keeps $XDG_CACHE_HOME rebuilds in seconds. Measured on 2 CPUs with go1.26.8: cold (empty
# caches, modules downloaded from the proxy) 2 min 38 s; warm (caches kept, binary removed) 7 s;
# binary present with the pinned version: no-op. The caches take ~2 GB.
set -euo pipefail

# minio/minio has no semver tags and was archived on 2026-02-12 ("THIS REPOSITORY IS NO LONGER
# MAINTAINED", docs/design/upstream-facts.md); this pseudo-version is its last commit, 7aac2a2c.
# It needs go >= 1.24 (its go.mod); built and tested here with go1.26.8.
readonly MINIO_MODULE=github.com/minio/minio
readonly MINIO_VERSION="${STS_SIDECAR_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"

# shellcheck source=../lib/go-build-env.sh
source "$(dirname "$0")/../lib/go-build-env.sh"
BIN="$BIN_DIR/minio"
# Written after a successful build: the module version the binary was built from (`minio
# --version` only says DEVELOPMENT.GOGET for a `go install` build).
VERSION_FILE="$BIN_DIR/minio.version"

log() { printf '[minio.sh] %s\n' "$*" >&2; }

installed() {
  [[ -x "$BIN" && -f "$VERSION_FILE" && "$(cat "$VERSION_FILE")" == "$MINIO_MODULE@$MINIO_VERSION" ]]
}

install() {
  if installed; then
    log "already installed: $BIN ($(cat "$VERSION_FILE"))"
    return 0
  fi
  require_go MinIO
  log "building $MINIO_MODULE@$MINIO_VERSION with $(go version) (cold: a few minutes)"
  local start=$SECONDS
  (
    export_go_build_env
    go install "$MINIO_MODULE@$MINIO_VERSION"
  )
  printf '%s\n' "$MINIO_MODULE@$MINIO_VERSION" >"$VERSION_FILE"
  log "built $BIN in $((SECONDS - start)) s"
  version
}

bin() {
  installed || {
    log "MinIO is not installed: run bash .ci/peers/minio.sh install"
    exit 1
  }
  printf '%s\n' "$BIN"
}

version() {
  bin >/dev/null
  printf '%s (%s)\n' "$(cat "$VERSION_FILE")" "$("$BIN" --version | head -n 2 | paste -sd ' ')"
}

case "${1:-}" in
  install) install ;;
  bin) bin ;;
  version) version ;;
  *)
    echo "usage: $0 install|bin|version" >&2
    exit 2
    ;;
esac
