# shellcheck shell=bash
# Sourced by .ci/peers/kube.sh: start and stop the single-node cluster.
#
# Every process runs inside the network namespace $NETNS_NAME (nsenter --net), in its own
# session, with its PID in $PIDS. Container processes live in cgroups under $CGROUP_ROOT (the
# kubelet's cgroupRoot, below this job's own memory cgroup), so `stop` can find and kill them
# even when a PID file is lost, and then remove every cgroup, mount and the namespace it made.
#
# Workarounds this machine kind needs (each also commented where it is applied):
# - cgroup v1 host: kubelet failCgroupV1: false, cgroupDriver cgroupfs.
# - no CAP_SYS_RESOURCE: runc cannot set oom_score_adj -998, so containerd's CRI restricts it.
# - no registry: the pause image is imported from a local archive (.ci/build-images.sh).
# - no dummy link driver: the node address sits on a bridge with no ports.

# shellcheck source=pki.sh
source "$(dirname "${BASH_SOURCE[0]}")/pki.sh"

STATE=$KUBE_STATE_DIR
PKI=$STATE/pki
PIDS=$STATE/pids
LOGS=$STATE/logs
CONTAINERD_SOCK=$STATE/containerd.sock
# The sandbox ("pause") image every pod starts with; built locally by .ci/build-images.sh.
PAUSE_IMAGE=localhost/sts-sidecar-e2e/pause:1
PAUSE_ARCHIVE="$CACHE_DIR/images/pause.tar"
# Start deadlines, generous for a cold, contended 2-core machine (measured: API server ready in
# 3-4 s, node Ready ~10 s after the kubelet starts).
ETCD_DEADLINE_S=60
APISERVER_DEADLINE_S=120
NODE_DEADLINE_S=180

kube_start() {
  kube_installed || kube_die "not installed: run bash .ci/peers/kube.sh install"
  [[ -f $PAUSE_ARCHIVE ]] || kube_die "no pause image at $PAUSE_ARCHIVE: run bash .ci/build-images.sh all"
  # A taken host port would only show as an API server that never answers, minutes later.
  if (exec 3<>"/dev/tcp/127.0.0.1/$HOST_APISERVER_PORT") 2>/dev/null; then
    kube_die "127.0.0.1:$HOST_APISERVER_PORT is taken; stop what listens there or set STS_SIDECAR_KUBE_HOST_PORT"
  fi
  local spec
  for spec in $EXTRA_FORWARDS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/${spec%%=*}") 2>/dev/null; then
      kube_die "127.0.0.1:${spec%%=*} is taken; stop what listens there or change STS_SIDECAR_KUBE_FORWARDS"
    fi
  done
  if [[ -e $NETNS_PATH || -d $STATE ]]; then
    kube_log "a previous cluster was left behind; stopping it first"
    kube_stop
  fi
  # A failed start leaves nothing behind either (an EXIT trap: set -e exits from inside the
  # helper functions, where an ERR trap would not be inherited).
  KUBE_START_OK=false
  trap '[[ $KUBE_START_OK == true ]] || { kube_log "start failed; cleaning up"; kube_stop; }' EXIT
  local started=$SECONDS
  mkdir -p "$PIDS" "$LOGS" "$STATE/etcd" "$STATE/cni/net.d" "$STATE/cni/ipam"
  create_netns
  create_cgroup_root
  pki_create
  start_control_plane
  start_node
  write_cluster_file
  KUBE_START_OK=true
  kube_log "cluster ready in $((SECONDS - started)) s: KUBECONFIG=$STATE/admin.kubeconfig"
  kube_log "$(kube_version)"
}

create_netns() {
  ip netns add "$NETNS_NAME"
  kube_in_netns ip link set lo up
  # The node address needs a link that is up; this kernel has no dummy driver, and a bridge with
  # no ports serves the same purpose.
  kube_in_netns ip link add stsnode0 type bridge
  kube_in_netns ip addr add "$NODE_IP/24" dev stsnode0
  kube_in_netns ip link set stsnode0 up
  # A default route that leads nowhere: components that look for "the" host interface find the
  # node address, and nothing can leave the namespace.
  kube_in_netns ip route add default dev stsnode0
}

# The kubelet's cgroupRoot, created in every v1 hierarchy below this job's memory cgroup (the
# one the job's limit applies to), so no container escapes it.
create_cgroup_root() {
  local base
  base=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
  [[ $base == / ]] && base=""
  CGROUP_ROOT="$base/$KUBE_INSTANCE"
  printf '%s\n' "$CGROUP_ROOT" >"$STATE/cgroup-root"
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [[ -f $hierarchy/cgroup.procs ]] || continue
    mkdir -p "$hierarchy$CGROUP_ROOT"
    # A new cpuset cgroup starts with no CPUs and no memory nodes; inherit the parent's.
    if [[ -f $hierarchy$CGROUP_ROOT/cpuset.cpus ]]; then
      cat "$(dirname "$hierarchy$CGROUP_ROOT")/cpuset.cpus" >"$hierarchy$CGROUP_ROOT/cpuset.cpus"
      cat "$(dirname "$hierarchy$CGROUP_ROOT")/cpuset.mems" >"$hierarchy$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

# spawn NAME CMD...: runs CMD in the namespace, in a session of its own, logging to $LOGS/NAME.log.
# setsid does not fork here (a background job is not a group leader) and nsenter execs, so $! is
# CMD's own PID.
spawn() {
  local name=$1
  shift
  setsid nsenter --net="$NETNS_PATH" -- "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$PIDS/$name.pid"
}

# wait_until SECONDS WHAT CMD...: polls CMD until it succeeds; fails naming WHAT and its log.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      kube_log "timed out waiting for $what; last log lines:"
      tail -n 20 "$LOGS/$what.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

kubectl_admin() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

start_control_plane() {
  local bin=$KUBE_BIN_DIR
  spawn etcd "$bin/etcd" --name default --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster default=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync
  wait_until $ETCD_DEADLINE_S etcd kube_in_netns curl -fsS --max-time 2 http://127.0.0.1:2381/health
  start_apiserver
  # The host's tests reach the API server through a loopback port: socat listens on the host and
  # hands each connection over a unix socket (which crosses namespaces) to a socat inside.
  forward apiserver "$HOST_APISERVER_PORT" "$NODE_IP:$APISERVER_PORT"
  local spec
  for spec in $EXTRA_FORWARDS; do forward "forward-${spec%%=*}" "${spec%%=*}" "${spec#*=}"; done
  wait_until $APISERVER_DEADLINE_S kube-apiserver kubectl_admin get --raw /readyz
  spawn kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --controllers '*,-bootstrap-signer-controller,-token-cleaner-controller'
  spawn kube-scheduler "$bin/kube-scheduler" --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
}

# The API server, alone, so `restart-apiserver` and `rotate-signing-key` can run it again with
# the same flags. Issuers: $SA_ISSUER first when set (the one new tokens carry: an OIDC publisher
# such as `sts-sidecar issuer`), then the API server itself at the node address, which pods and
# stores in the namespace reach, and whose tokens stay valid. Every key ever listed in
# $PKI/sa-keys verifies; the last one signs.
start_apiserver() {
  local issuers=() keys=() key
  [[ -n $SA_ISSUER ]] && issuers+=(--service-account-issuer "$SA_ISSUER")
  issuers+=(--service-account-issuer "https://$NODE_IP:$APISERVER_PORT")
  while read -r key; do keys+=(--service-account-key-file "$PKI/$key.pub"); done <"$PKI/sa-keys"
  spawn kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    "${issuers[@]}" "${keys[@]}" \
    --service-account-signing-key-file "$PKI/$(tail -n 1 "$PKI/sa-keys").key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --enable-aggregator-routing=true --profiling=false
}

# `kube.sh stop-apiserver` / `start-apiserver` / `restart-apiserver`: the API server goes away
# and comes back with the same flags (what an upgrade or a crash looks like to its clients); the
# two halves let a test look at its clients while it is down.
kube_stop_apiserver() {
  [[ -f $PIDS/kube-apiserver.pid ]] || kube_die "the API server is not running (or no cluster is)"
  stop_pids "$PIDS/kube-apiserver.pid"
  kube_log "kube-apiserver stopped"
}

kube_start_apiserver() {
  [[ -f $PKI/sa-keys ]] || kube_die "no cluster is running: run bash .ci/peers/kube.sh start"
  [[ -f $PIDS/kube-apiserver.pid ]] && kube_die "the API server is already running"
  start_apiserver
  wait_until $APISERVER_DEADLINE_S kube-apiserver kubectl_admin get --raw /readyz
  kube_log "kube-apiserver started"
}

kube_restart_apiserver() {
  kube_stop_apiserver
  kube_start_apiserver
}

# `kube.sh rotate-signing-key`: a new service-account key pair signs from now on; the previous
# keys still verify (the API server's JWKS lists them all), as in a planned key rotation.
kube_rotate_signing_key() {
  [[ -f $PKI/sa-keys ]] || kube_die "no cluster is running: run bash .ci/peers/kube.sh start"
  local name
  name="sa-$(($(wc -l <"$PKI/sa-keys") + 1))"
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/$name.key" -pubout -out "$PKI/$name.pub" 2>/dev/null
  printf '%s\n' "$name" >>"$PKI/sa-keys"
  kube_restart_apiserver
  kube_log "service-account signing key is now $name ($(wc -l <"$PKI/sa-keys") keys verify)"
}

# forward NAME HOST_PORT TARGET: the host's 127.0.0.1:HOST_PORT reaches TARGET (ADDR:PORT inside
# the namespace) through a unix socket, which crosses namespaces.
forward() {
  local name=$1 port=$2 target=$3
  spawn "$name-forward-in" socat "UNIX-LISTEN:$STATE/$name.sock,fork,mode=600" "TCP:$target"
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" \
    "UNIX-CONNECT:$STATE/$name.sock" >"$LOGS/$name-forward-out.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$PIDS/$name-forward-out.pid"
}

start_node() {
  write_containerd_config
  spawn containerd containerd --config "$STATE/containerd.toml"
  wait_until 60 containerd ctr --address "$CONTAINERD_SOCK" version
  kube_load_images
  write_kubelet_config
  spawn kubelet "$KUBE_BIN_DIR/kubelet" --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/kubelet.kubeconfig" --root-dir "$STATE/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  write_kube_proxy_config
  spawn kube-proxy "$KUBE_BIN_DIR/kube-proxy" --config "$STATE/kube-proxy.yaml"
  wait_until $NODE_DEADLINE_S kubelet kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
  # Pods need their namespace's ServiceAccount, which the controller-manager creates.
  wait_until 60 kube-controller-manager kubectl_admin get serviceaccount default -n default
}

# Imports every image archive .ci/build-images.sh wrote (the pause image among them) into the
# node's containerd, where the kubelet finds them with imagePullPolicy Never. Also
# `kube.sh load`, after a rebuild while the cluster runs.
kube_load_images() {
  local archive
  [[ -S $CONTAINERD_SOCK ]] || kube_die "no cluster is running: run bash .ci/peers/kube.sh start"
  for archive in "$CACHE_DIR"/images/*.tar; do
    [[ -f $archive ]] || continue
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$archive" >/dev/null
    kube_log "loaded $(basename "$archive")"
  done
}

write_containerd_config() {
  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$STATE/containerd-ttrpc.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # runc cannot raise oom_score_adj here (no CAP_SYS_RESOURCE); this keeps the kubelet's values
  # within what the process may set.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  # The pod network: a real bridge with host-local addresses, routed to the node address.
  cat >"$STATE/cni/net.d/10-sts-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "sts-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$STATE/cni/ipam"
      }
    }
  ]
}
EOF
}

write_kubelet_config() {
  # No cluster DNS runs; a resolver address inside the namespace makes lookups fail fast.
  printf 'nameserver %s\n' "$NODE_IP" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine's kernel mounts cgroup v1 only; the kubelet refuses v1 unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: "$(cat "$STATE/cgroup-root")"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
address: "$NODE_IP"
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
clusterDomain: cluster.local
resolvConf: "$STATE/resolv.conf"
# Container logs stay in the state dir (default /var/log/pods), so stop leaves none behind.
podLogsDir: "$STATE/pod-logs"
failSwapOn: false
# The images are imported, not pulled: never collect them, never evict for a full-ish disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
maxPods: 40
EOF
}

write_kube_proxy_config() {
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$STATE/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: ["$NODE_IP/32"]
# Leave the host's conntrack sysctls alone (they are not per-namespace and need privileges the
# sandbox lacks).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

write_cluster_file() {
  cat >"$KUBE_CLUSTER_FILE" <<EOF
{
  "kubeconfig": "$STATE/admin.kubeconfig",
  "kubectl": "$KUBE_BIN_DIR/kubectl",
  "netns": "$NETNS_PATH",
  "nodeName": "$NODE_NAME",
  "nodeIp": "$NODE_IP",
  "issuer": "${SA_ISSUER:-https://$NODE_IP:$APISERVER_PORT}",
  "apiServerIssuer": "https://$NODE_IP:$APISERVER_PORT",
  "instance": "$KUBE_INSTANCE",
  "stateDir": "$STATE",
  "hostApiServerPort": $HOST_APISERVER_PORT,
  "forwards": "$EXTRA_FORWARDS",
  "caFile": "$PKI/ca.crt",
  "containerdAddress": "$CONTAINERD_SOCK",
  "versions": "$(kube_version)"
}
EOF
}

# Stops everything `start` made, in an order that never strands a child: the kubelet first (no
# restarts), then every container (by cgroup), the shims, the rest of the processes; then the
# mounts, the cgroups, the namespace and the state. Safe to run twice and after a failed start.
kube_stop() {
  stop_pids "$PIDS"/{kubelet,kube-proxy,kube-scheduler,kube-controller-manager}.pid
  kill_cgroup_processes
  kill_shims
  stop_pids "$PIDS"/*.pid
  remove_pod_netns
  unmount_state
  remove_cgroups
  if [[ -e $NETNS_PATH ]]; then ip netns del "$NETNS_NAME" 2>/dev/null || true; fi
  rm -rf "$STATE"
  kube_log "stopped"
}

# stop_pids FILE...: SIGTERM to each process group at once, SIGKILL to what is left after 10 s.
stop_pids() {
  local file pid pids=()
  for file in "$@"; do
    pid=$(cat "$file" 2>/dev/null) || continue
    rm -f "$file"
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || continue
    pids+=("$pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  # A killed process takes a moment to go (the API server frees a few hundred MiB): wait, so the
  # mounts and cgroups below are free and `leftovers` right after sees nothing.
  deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  done
}

# Prints anything a cluster of ours left on the machine: processes, mounts, the namespace,
# cgroups; nothing when the machine is as it was. .ci/run checks this after `stop`.
kube_leftovers() {
  # Every process start made names the state dir in its arguments (the shims: its socket).
  pgrep -a -f "$STATE/" | grep -v -e pgrep -e kube_leftovers || true
  findmnt -rn -o TARGET | our_mounts
  [[ -e $NETNS_PATH ]] && echo "$NETNS_PATH"
  # A pod network namespace still pinned with no process in it (a running cluster's are in use).
  local pinned in_use
  in_use=$(for p in /proc/[0-9]*/ns/net; do stat -L -c %i "$p" 2>/dev/null; done | sort -u)
  for pinned in /run/netns/cni-*; do
    [[ -e $pinned ]] || continue
    grep -qx "$(stat -L -c %i "$pinned")" <<<"$in_use" || echo "$pinned"
  done
  find /sys/fs/cgroup -maxdepth 4 -type d -name "$KUBE_INSTANCE" 2>/dev/null || true
  [[ -e $STATE ]] && echo "$STATE"
  return 0
}

cgroup_root() {
  cat "$STATE/cgroup-root" 2>/dev/null || true
}

# Every process in a cgroup below the kubelet's root belongs to a container (or its shim's
# child); the freezer would make this atomic, but nothing restarts them once the kubelet is gone.
kill_cgroup_processes() {
  local root pids pid
  root=$(cgroup_root)
  [[ -n $root ]] || return 0
  for _ in 1 2 3; do
    pids=$(find /sys/fs/cgroup/*"$root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [[ -n $pids ]] || return 0
    # The pods' network namespaces: the CNI plugin pinned each under /run/netns (containerd 1.6
    # has no setting to keep them in its state dir), and only a CNI DEL would remove the pin.
    for pid in $pids; do
      stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null >>"$STATE/pod-netns-inodes" || true
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  done
}

# Unpins the pods' network namespaces that kill_cgroup_processes recorded.
remove_pod_netns() {
  [[ -f $STATE/pod-netns-inodes ]] || return 0
  local pinned
  for pinned in /run/netns/cni-*; do
    [[ -e $pinned ]] || continue
    if grep -qx "$(stat -L -c %i "$pinned" 2>/dev/null)" "$STATE/pod-netns-inodes"; then
      umount "$pinned" 2>/dev/null || umount -l "$pinned" 2>/dev/null || true
      rm -f "$pinned"
    fi
  done
}

# containerd's shims re-parent to init and outlive containerd; ours name our socket.
kill_shims() {
  local pid
  for pid in $(pgrep -f "containerd-shim.*-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# The mount targets (stdin, one a line) that are this cluster's: its state dir and below, and its
# namespace. Whole path components, never a prefix: /var/lib/sts-sidecar-kube must not match the
# state of a cluster beside it, /var/lib/sts-sidecar-kube-rgw.
our_mounts() {
  awk -v state="$STATE" -v netns="$NETNS_PATH" \
    '$0 == state || index($0, state "/") == 1 || $0 == netns' || true
}

unmount_state() {
  local target
  # Deepest first; lazily if a mount is still busy.
  findmnt -rn -o TARGET | our_mounts | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done
}

remove_cgroups() {
  local root dir
  root=$(cgroup_root)
  [[ -n $root ]] || return 0
  for dir in /sys/fs/cgroup/*"$root"; do
    [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
