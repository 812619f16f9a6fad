#!/usr/bin/env bash
# A real single-node Kubernetes for the Kubernetes e2e suites (test/e2e/kube-*.e2e.test.ts):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kubelet, all built from their
# Go modules, with Debian's containerd, runc and CNI plugins, inside a network namespace of its own.
#
#   bash .ci/peers/kube.sh install   builds the pinned binaries into $BIN_DIR/kube-<version>/ and
#                                    installs containerd, runc, CNI plugins (apt); idempotent
#   bash .ci/peers/kube.sh install-runtime   only the apt part of install
#   bash .ci/peers/kube.sh start     starts the cluster; prints where its kubeconfig is
#   bash .ci/peers/kube.sh stop      stops it and removes every process, mount, netns and cgroup
#   bash .ci/peers/kube.sh stop-apiserver | start-apiserver | restart-apiserver
#                                    kube-apiserver alone goes away / comes back, same flags
#   bash .ci/peers/kube.sh rotate-signing-key  a new service-account key signs; the old still verify
#   bash .ci/peers/kube.sh load      re-imports the image archives of .ci/build-images.sh
#   bash .ci/peers/kube.sh leftovers prints whatever a cluster left behind (nothing after stop)
#   bash .ci/peers/kube.sh version   prints the Kubernetes, etcd, containerd and runc versions
#   bash .ci/peers/kube.sh env       prints the shell variables tests read (KUBECONFIG, addresses)
#
# The implementation lives in .ci/peers/kube/*.sh, one concern a file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=kube/common.sh
source "$here/kube/common.sh"

case "${1:-}" in
  install)
    source "$here/kube/build.sh"
    kube_install
    ;;
  install-runtime)
    source "$here/kube/build.sh"
    install_node_runtime
    ;;
  start)
    source "$here/kube/node.sh"
    kube_start
    ;;
  stop)
    source "$here/kube/node.sh"
    kube_stop
    ;;
  stop-apiserver | start-apiserver | restart-apiserver)
    source "$here/kube/node.sh"
    "kube_${1//-/_}"
    ;;
  rotate-signing-key)
    source "$here/kube/node.sh"
    kube_rotate_signing_key
    ;;
  load)
    source "$here/kube/node.sh"
    kube_load_images
    ;;
  leftovers)
    source "$here/kube/node.sh"
    kube_leftovers
    ;;
  version) kube_version ;;
  env) kube_env ;;
  *)
    echo "usage: $0 install|install-runtime|start|stop|stop-apiserver|start-apiserver|restart-apiserver|rotate-signing-key|load|leftovers|version|env" >&2
    exit 2
    ;;
esac
