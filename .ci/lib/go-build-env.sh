# Sourced by the scripts that build Go programs for the tests (.ci/peers/minio.sh,
# .ci/go-tool.sh, .ci/build-go-client.sh), so they share one cache and one isolation policy.
#
# The Go module and build caches and every binary live under $CACHE_DIR, which CI machines
# keep between runs: a warm rebuild takes seconds. Nothing lands in the user's GOPATH.

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/sts-sidecar"
BIN_DIR="$CACHE_DIR/bin"

# Exports the isolated Go environment: our own GOPATH and caches; GOFLAGS=-buildvcs=false (we
# build from the module cache or a subdirectory, not a checkout); GOTOOLCHAIN=local (never
# download another Go toolchain behind our back); CGO_ENABLED=0 (static, no C toolchain needed).
# $1: extra GOFLAGS, e.g. -mod=readonly.
export_go_build_env() {
  export GOPATH="$CACHE_DIR/go" GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/build" \
    GOBIN="$BIN_DIR" GOFLAGS="-buildvcs=false${1:+ $1}" GOTOOLCHAIN=local CGO_ENABLED=0
}

# Fails with the reason when Go is missing; $1 names what needed it.
require_go() {
  command -v go >/dev/null || {
    printf '%s: go is not installed; it is built from source (needs go >= 1.24)\n' "$1" >&2
    exit 1
  }
  mkdir -p "$BIN_DIR"
}
