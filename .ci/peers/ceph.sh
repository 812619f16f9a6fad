#!/usr/bin/env bash
# A single-host Ceph cluster with radosgw (STS + IAM on), from Debian's packages, for the RGW e2e
# suite (test/e2e/rgw.e2e.test.ts). Loopback only, no block device, no systemd: one monitor, one
# OSD on memstore (RAM, pool size 1) and radosgw on 127.0.0.1, all started by hand with the
# config and data under $STS_SIDECAR_CEPH_DIR, and stopped by their recorded PIDs.
#
#   bash .ci/peers/ceph.sh install   apt packages (root; idempotent)
#   bash .ci/peers/ceph.sh start     (re)creates the cluster from scratch and writes state.env
#   bash .ci/peers/ceph.sh stop      kills the recorded PIDs
#   bash .ci/peers/ceph.sh status    exit 0 when radosgw answers
#
# `start` also makes the test OIDC issuer's TLS certificate (issuer/cert.pem, SAN 127.0.0.1) and
# adds it to the system CA store with update-ca-certificates: RGW Pacific fetches the issuer's
# discovery document and JWKS with libcurl, which verifies against the system store
# (rgw_verify_ssl, default true), and has no CA-file option for that fetch.
set -euo pipefail

DIR="${STS_SIDECAR_CEPH_DIR:-${TMPDIR:-/tmp}/sts-sidecar-ceph}"
# Below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default):
# a port inside it can be held by any outbound connection or TIME_WAIT socket (a bench run
# leaves ~100 000), and radosgw then fails with "Address already in use".
MON_PORT="${STS_SIDECAR_CEPH_MON_PORT:-16789}"
RGW_PORT="${STS_SIDECAR_RGW_PORT:-17480}"
CONF="$DIR/ceph.conf"
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common)
SYSTEM_CA="/usr/local/share/ca-certificates/sts-sidecar-test-issuer.crt"

log() { printf '[ceph.sh] %s\n' "$*" >&2; }

install() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  command -v update-ca-certificates >/dev/null || missing+=(ca-certificates)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  dpkg-query -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" >&2
}

# Kills one recorded PID (only ours) and waits for it to go.
kill_pidfile() {
  local f="$1" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() {
  kill_pidfile "$DIR/run/client.rgw.sts.pid"
  kill_pidfile "$DIR/run/osd.0.pid"
  kill_pidfile "$DIR/run/mon.a.pid"
}

write_conf() {
  local fsid="$1"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw defaults its monitor connection to "secure" mode, which auth "none" cannot provide.
ms_mon_client_mode = crc secure
run_dir = $DIR/run
admin_socket = $DIR/run/\$cluster-\$name.asok
log_file = $DIR/log/\$cluster-\$name.log
pid_file = $DIR/run/\$name.pid
keyring = $DIR/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 1
mon_data_avail_crit = 0

[mon]
mon_data = $DIR/mon/\$cluster-\$id

[osd]
osd_data = $DIR/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_max_object_name_len = 256
osd_max_object_namespace_len = 64

[client.rgw.sts]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_dns_name = 127.0.0.1
rgw_zone = default
rgw_s3_auth_use_sts = true
# Exactly 16 characters (docs/design/upstream-facts.md): longer or shorter keys fail with opaque 500s.
rgw_sts_key = stssidecartest16
rgw_enable_apis = s3, admin, sts, iam
rgw_thread_pool_size = 64
debug_rgw = 20
EOF
}

# The issuer certificate the e2e test serves its OIDC discovery + JWKS with, trusted system-wide.
issuer_cert() {
  mkdir -p "$DIR/issuer"
  if ! openssl x509 -checkend 86400 -noout -in "$DIR/issuer/cert.pem" >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=sts-sidecar-test-issuer \
      -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' -addext 'basicConstraints=critical,CA:TRUE' \
      -keyout "$DIR/issuer/key.pem" -out "$DIR/issuer/cert.pem" 2>/dev/null
  fi
  if ! cmp -s "$DIR/issuer/cert.pem" "$SYSTEM_CA"; then
    cp "$DIR/issuer/cert.pem" "$SYSTEM_CA"
    update-ca-certificates >/dev/null
  fi
}

wait_for() { # <seconds> <what> <command...>
  local deadline=$((SECONDS + $1)) what="$2"
  shift 2
  # A deadline, not a count of tries: a try can itself take seconds (curl --max-time).
  while ((SECONDS < deadline)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "timed out waiting for $what; last log lines:"
  tail -n 30 "$DIR"/log/*.log >&2 || true
  return 1
}

# Exits 1, naming the port, when something already listens on it.
require_free_port() {
  local port="$1" what="$2"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "127.0.0.1:$port ($what) is taken by another process; set $3 to a free port"
    exit 1
  fi
}

start() {
  local t0=$SECONDS
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
    command -v "$b" >/dev/null || { log "$b missing: run $0 install"; exit 1; }
  done
  stop
  require_free_port "$MON_PORT" monitor STS_SIDECAR_CEPH_MON_PORT
  require_free_port "$RGW_PORT" radosgw STS_SIDECAR_RGW_PORT
  # A start that fails half way must not leave a monitor and an OSD running.
  trap 'rc=$?; stop; exit $rc' EXIT
  rm -rf "$DIR/mon" "$DIR/osd" "$DIR/run" "$DIR/log" "$DIR/state.env"
  mkdir -p "$DIR/mon" "$DIR/osd/ceph-0" "$DIR/run" "$DIR/log"
  local fsid
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  write_conf "$fsid"
  issuer_cert

  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap"
  ceph-mon -c "$CONF" -i a
  wait_for 30 "the monitor" ceph -c "$CONF" --connect-timeout 2 mon stat

  local osd_uuid id
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  id="$(ceph -c "$CONF" osd new "$osd_uuid")"
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>>"$DIR/log/mkfs.log"
  ceph-osd -c "$CONF" -i "$id"
  wait_for 60 "osd.$id up" bash -c "ceph -c '$CONF' osd dump | grep -q '^osd.$id up'"

  radosgw -c "$CONF" -n client.rgw.sts
  wait_for 120 "radosgw on 127.0.0.1:$RGW_PORT" curl -sf --max-time 2 "http://127.0.0.1:$RGW_PORT/"

  # The IAM admin: creates the OIDC provider, the role and its policy through RGW's IAM API.
  local admin access secret
  admin="$(radosgw-admin -c "$CONF" -n client.rgw.sts user create --uid sts-admin \
    --display-name 'sts-sidecar e2e admin' 2>/dev/null)"
  radosgw-admin -c "$CONF" -n client.rgw.sts caps add --uid sts-admin \
    --caps 'oidc-provider=*;roles=*;user-policy=*;users=*' >/dev/null 2>&1
  access="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["access_key"])' <<<"$admin")"
  secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["secret_key"])' <<<"$admin")"
  cat >"$DIR/state.env.tmp" <<EOF
STS_SIDECAR_RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
STS_SIDECAR_RGW_ADMIN_ACCESS_KEY=$access
STS_SIDECAR_RGW_ADMIN_SECRET_KEY=$secret
STS_SIDECAR_RGW_ISSUER_CERT=$DIR/issuer/cert.pem
STS_SIDECAR_RGW_ISSUER_KEY=$DIR/issuer/key.pem
STS_SIDECAR_RGW_LOG=$DIR/log/ceph-client.rgw.sts.log
STS_SIDECAR_RGW_VERSION=$(radosgw --version | awk '{print $3}')
EOF
  mv "$DIR/state.env.tmp" "$DIR/state.env"
  trap - EXIT
  log "cluster up in $((SECONDS - t0)) s; state: $DIR/state.env"
  cat "$DIR/state.env" >&2
}

status() {
  [[ -f "$DIR/state.env" ]] && curl -sf --max-time 2 "http://127.0.0.1:$RGW_PORT/" >/dev/null
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 64
    ;;
esac
