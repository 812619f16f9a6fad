# shellcheck shell=bash
# Sourced by .ci/peers/kube.sh: builds etcd and the Kubernetes binaries from their Go modules and
# installs the node's runtime from Debian's packages.
#
# Neither project can be built with `go install module@version`: both go.mod files carry replace
# directives (Kubernetes: ~33 staging modules at v0.0.0 => ./staging/src/...; etcd: its own
# submodules => ../), and go install refuses any module with replaces. Each is built from a
# throwaway main module that requires the published module and replaces those paths with their
# published versions instead, so only the Go module proxy is needed.
#
# Cold, 2 cores: etcd ~2 min, the six Kubernetes binaries ~15 min (kube-apiserver alone is most
# of it, with a ~2.3 GB peak RSS); warm (Go caches kept): seconds to relink.

kube_install() {
  if kube_installed; then
    kube_log "already installed: $KUBE_BIN_DIR ($(head -n 1 "$KUBE_VERSION_FILE"))"
    return 0
  fi
  install_node_runtime
  require_go kube.sh
  mkdir -p "$KUBE_BIN_DIR"
  export_go_build_env
  local start=$SECONDS
  [[ -x $KUBE_BIN_DIR/etcd ]] || build_etcd
  kube_log "built etcd $ETCD_VERSION in $((SECONDS - start)) s"
  start=$SECONDS
  build_kubernetes
  kube_log "built Kubernetes $KUBE_VERSION (${KUBE_BINARIES[*]}) in $((SECONDS - start)) s"
  printf 'kubernetes %s etcd %s\n' "$KUBE_VERSION" "$ETCD_VERSION" >"$KUBE_VERSION_FILE"
  kube_version
}

# containerd + runc run the pods, the CNI plugins (bridge, host-local, loopback) give them a
# network; iproute2 and util-linux (nsenter) build the node's network namespace; conntrack and
# iptables are what kube-proxy and the bridge plugin call; socat carries the API server's port
# out of the namespace to the host's loopback.
install_node_runtime() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
  command -v ip >/dev/null || need+=(iproute2)
  command -v nsenter >/dev/null || need+=(util-linux)
  command -v iptables >/dev/null || need+=(iptables)
  command -v conntrack >/dev/null || need+=(conntrack)
  command -v socat >/dev/null || need+=(socat)
  ((${#need[@]})) || return 0
  kube_log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts the containerd unit on install; our node runs its own, inside its namespace.
  if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
    systemctl disable --now containerd >/dev/null 2>&1 || true
  fi
}

# etcd's server module is the main package at go.etcd.io/etcd/server/v3 (its root); its go.mod
# replaces its sibling modules with ../, so they are pinned to the same published version here.
build_etcd() (
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work" || exit 1
  go mod init etcd-build >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  local m
  for m in api client/pkg client/v3 pkg; do
    go mod edit -replace="go.etcd.io/etcd/$m/v3=go.etcd.io/etcd/$m/v3@$ETCD_VERSION"
  done
  go build -mod=mod -trimpath \
    -ldflags="-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
    -o "$KUBE_BIN_DIR/etcd" go.etcd.io/etcd/server/v3
)

# Kubernetes: require k8s.io/kubernetes and replace every staging module its go.mod points at
# ./staging with the published v0.<minor>.<patch>. Two staging samples are not published and
# no binary here imports them. The version stamp is what `kubectl version` and helm's
# `kubeVersion` check read; without it the server says v0.0.0 and the chart refuses to install.
build_kubernetes() (
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || kube_die "cannot download k8s.io/kubernetes@$KUBE_VERSION from the module proxy"
  cd "$work" || exit 1
  go mod init kube-build >/dev/null 2>&1
  # The same GODEBUG defaults as an upstream build.
  grep -E '^godebug ' "$gomod" >>go.mod || true
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    local b
    for b in "${KUBE_BINARIES[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
    printf ')\n'
  } >tools.go
  go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
  grep -E '=> \./staging/src/' "$gomod" | awk '{print $1}' | while read -r module; do
    case "$module" in k8s.io/sample-cli-plugin | k8s.io/sample-controller) continue ;; esac
    go mod edit -replace="$module=$module@$KUBE_STAGING_VERSION"
  done
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  local pkgs=()
  for b in "${KUBE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  # One go build for all six: the shared packages compile once.
  go build -mod=mod -trimpath -ldflags="$ldflags" -o "$KUBE_BIN_DIR/" "${pkgs[@]}"
)
