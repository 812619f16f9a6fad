#!/usr/bin/env bash
# The second real cluster, for test/e2e/rgw-kube.e2e.test.ts (Ceph RGW with a real cluster's
# tokens, issue #12): the same .ci/peers/kube.sh, side by side with the first under its own
# name, state dir and host port, with what that suite needs of it:
# - new tokens carry the issuer https://127.0.0.1:16445, the OIDC publisher (`sts-sidecar
#   issuer`) the suite installs with the chart as a NodePort Service on 30443;
# - the host's 127.0.0.1:16445 is forwarded to that NodePort, so radosgw (a host process)
#   fetches discovery and JWKS from the publisher, as a store outside a cluster would;
# - the suite restarts its API server and rotates its signing key, which the other suites'
#   cluster must not see.
#   bash .ci/peers/kube-rgw.sh start|stop|leftovers|stop-apiserver|start-apiserver|rotate-signing-key|...
set -euo pipefail
export STS_SIDECAR_KUBE_INSTANCE=sts-sidecar-kube-rgw
export STS_SIDECAR_KUBE_STATE_DIR=/var/lib/sts-sidecar-kube-rgw
export STS_SIDECAR_KUBE_HOST_PORT=16444
export STS_SIDECAR_KUBE_SA_ISSUER=https://127.0.0.1:16445
export STS_SIDECAR_KUBE_FORWARDS="16445=198.18.0.1:30443"
exec bash "$(dirname "$0")/kube.sh" "$@"
