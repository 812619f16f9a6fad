#!/usr/bin/env bash
# The Go S3 client of the e2e suites (test/clients/go-s3: aws-sdk-go-v2, pinned in its go.mod
# and go.sum), built with `go install` (Go and the module proxy only; no other network access).
#
#   bash .ci/build-go-client.sh install   builds it into $BIN_DIR (idempotent)
#   bash .ci/build-go-client.sh bin       prints the binary's path (exit 1 when missing or stale)
#   bash .ci/build-go-client.sh version   prints the SDK module versions it was built with
#
# Tests find the binary with `bin` (test/helpers/client-probes.ts) and skip the Go client with
# the reason when it is missing, so `npm test` without Go still passes; `.ci/run` builds it.
# A stamp (sha256 of go.mod, go.sum and the sources) marks which sources the binary was built
# from: after an edit, `bin` says stale until `install` runs again. Module and build caches are
# shared with .ci/peers/minio.sh and .ci/go-tool.sh under ~/.cache/sts-sidecar.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SRC=test/clients/go-s3
# shellcheck source=lib/go-build-env.sh
source .ci/lib/go-build-env.sh
BIN="$BIN_DIR/go-s3"
STAMP="$BIN_DIR/go-s3.stamp"
# The SDK module versions the binary carries in its build info, written at build time so that
# `version` needs no Go toolchain.
VERSION_FILE="$BIN_DIR/go-s3.version"

log() { printf '[build-go-client.sh] %s\n' "$*" >&2; }

sources_hash() {
  (cd "$SRC" && sha256sum go.mod go.sum ./*.go) | sha256sum | cut -d' ' -f1
}

installed() {
  [[ -x "$BIN" && -f "$VERSION_FILE" && -f "$STAMP" && "$(cat "$STAMP")" == "$(sources_hash)" ]]
}

install() {
  if installed; then
    log "already built: $BIN"
    return 0
  fi
  require_go "the Go S3 client"
  log "building $SRC with $(go version)"
  local start=$SECONDS
  # -mod=readonly: go.mod and go.sum pin every module; a build never changes them.
  (
    cd "$SRC"
    export_go_build_env -mod=readonly
    go install .
  )
  go version -m "$BIN" |
    awk '$1 == "dep" && ($2 == "github.com/aws/aws-sdk-go-v2" || $2 == "github.com/aws/aws-sdk-go-v2/config" || $2 == "github.com/aws/aws-sdk-go-v2/service/s3") { printf "%s%s@%s", sep, $2, $3; sep = ", " } NR == 1 { go = $2 } END { printf " (%s)\n", go }' \
      >"$VERSION_FILE"
  sources_hash >"$STAMP"
  log "built $BIN in $((SECONDS - start)) s"
  version
}

bin() {
  installed || {
    log "the Go S3 client is not built (or its sources changed): run bash .ci/build-go-client.sh install"
    exit 1
  }
  printf '%s\n' "$BIN"
}

version() {
  bin >/dev/null
  cat "$VERSION_FILE"
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
