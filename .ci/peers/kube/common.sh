# shellcheck shell=bash
# shellcheck disable=SC2034  # the constants here are read by build.sh and node.sh
# Sourced by .ci/peers/kube.sh: pinned versions, paths and helpers shared by build.sh and node.sh.

# shellcheck source=../../lib/go-build-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/go-build-env.sh"

# Kubernetes: one release for every component. 1.37 is the newest minor whose modules the Go
# proxy serves here; its go.mod needs go >= 1.26.0.
readonly KUBE_VERSION="${STS_SIDECAR_KUBE_VERSION:-v1.37.2}"
# The staging modules (k8s.io/api, k8s.io/client-go, ...) are published as v0.<minor>.<patch>.
readonly KUBE_STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
# etcd: the release Kubernetes 1.37 is tested with (its cluster/images/etcd), 3.6+ API.
readonly ETCD_VERSION="${STS_SIDECAR_ETCD_VERSION:-v3.7.3}"

readonly KUBE_BIN_DIR="$BIN_DIR/kube-$KUBE_VERSION"
readonly KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
readonly KUBE_VERSION_FILE="$KUBE_BIN_DIR/versions"

# One name for everything a cluster makes on the machine (state dir, network namespace, cgroup),
# so two clusters can run side by side when each gets its own name, state dir and host port.
readonly KUBE_INSTANCE="${STS_SIDECAR_KUBE_INSTANCE:-sts-sidecar-kube}"
# Run-time state of a started cluster: certificates, kubeconfigs, etcd data, containerd's images,
# logs, pids. Outside the repo, so a clean clone never sees it.
readonly KUBE_STATE_DIR="${STS_SIDECAR_KUBE_STATE_DIR:-/var/lib/$KUBE_INSTANCE}"
# What the tests read (test/helpers/kube-cluster.ts): kubeconfig path, addresses, versions.
readonly KUBE_CLUSTER_FILE="$KUBE_STATE_DIR/cluster.json"

# Addresses. Everything lives in one network namespace with no route out, and every address is
# from 198.18.0.0/15 (RFC 2544's benchmarking range), never a private range: the node address on
# a port-less bridge, the pod network on the CNI bridge, Service ClusterIPs.
readonly NETNS_NAME=$KUBE_INSTANCE
readonly NETNS_PATH=/run/netns/$NETNS_NAME
readonly NODE_NAME=sts-node
readonly NODE_IP=198.18.0.1
readonly POD_CIDR=198.18.1.0/24
readonly POD_GATEWAY=198.18.1.1
readonly SERVICE_CIDR=198.19.0.0/24
readonly KUBERNETES_SERVICE_IP=198.19.0.1
readonly APISERVER_PORT=6443
# The API server as the host's tests see it: a loopback port forwarded into the namespace. Below
# the kernel's ephemeral port range (32768+), where outbound sockets cannot hold it.
readonly HOST_APISERVER_PORT="${STS_SIDECAR_KUBE_HOST_PORT:-16443}"

# Optional: the service-account issuer new tokens carry, when it is not the API server itself (an
# OIDC publisher in front of it, e.g. `sts-sidecar issuer`); the API server's own stays accepted.
readonly SA_ISSUER="${STS_SIDECAR_KUBE_SA_ISSUER:-}"
# Optional: more loopback forwards into the namespace, "HOST_PORT=ADDR:PORT ..." (e.g. to a
# NodePort), so host processes (RGW) reach what runs in the cluster.
readonly EXTRA_FORWARDS="${STS_SIDECAR_KUBE_FORWARDS:-}"

kube_log() { printf '[kube.sh] %s\n' "$*" >&2; }
kube_die() {
  kube_log "ERROR: $*"
  exit 1
}

kube_installed() {
  [[ -f $KUBE_VERSION_FILE && "$(head -n 1 "$KUBE_VERSION_FILE")" == "kubernetes $KUBE_VERSION etcd $ETCD_VERSION" ]] || return 1
  local b
  for b in "${KUBE_BINARIES[@]}" etcd; do [[ -x $KUBE_BIN_DIR/$b ]] || return 1; done
  command -v containerd >/dev/null && command -v runc >/dev/null && [[ -x /usr/lib/cni/bridge ]]
}

# kube_in_netns CMD...: runs CMD inside the node's network namespace. nsenter, not `ip netns
# exec`: the latter remounts /sys, which hides the host's cgroup hierarchies from the kubelet.
kube_in_netns() { nsenter --net="$NETNS_PATH" -- "$@"; }

kube_env() {
  [[ -f $KUBE_CLUSTER_FILE ]] || kube_die "no cluster is running: run bash .ci/peers/kube.sh start"
  printf 'export KUBECONFIG=%q\n' "$KUBE_STATE_DIR/admin.kubeconfig"
  printf 'export STS_SIDECAR_KUBE_NETNS=%q\n' "$NETNS_PATH"
  printf 'export STS_SIDECAR_KUBE_NODE_IP=%q\n' "$NODE_IP"
}

kube_version() {
  kube_installed || kube_die "not installed: run bash .ci/peers/kube.sh install"
  printf 'kubernetes %s (kubelet: %s), etcd %s, containerd %s, runc %s\n' \
    "$KUBE_VERSION" "$("$KUBE_BIN_DIR/kubelet" --version 2>&1 | head -n 1)" \
    "$("$KUBE_BIN_DIR/etcd" --version 2>&1 | sed -n 's/^etcd Version: //p')" \
    "$(containerd --version | awk '{print $3}')" \
    "$(runc --version | sed -n 's/^runc version //p')"
}
