# shellcheck shell=bash
# Sourced by node.sh: the cluster's certificates and kubeconfigs, made with openssl.
#
# One CA signs everything (a throwaway cluster needs no separate front-proxy or etcd CA): the API
# server's serving certificate, a client certificate per component (the identity RBAC and the
# Node authorizer see is the CN and O), and the service-account signing key pair.

# pki_issue NAME CN [O] [SAN]: a key and a CA-signed certificate in $PKI/NAME.{key,crt}.
pki_issue() {
  local name=$1 cn=$2 org=${3:-} san=${4:-}
  local subj="/CN=$cn"
  [[ -n $org ]] && subj="/O=$org$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subj" \
    -out "$PKI/$name.csr" 2>/dev/null
  local ext="$PKI/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

# pki_kubeconfig NAME SERVER: $STATE/NAME.kubeconfig for the client certificate NAME.
pki_kubeconfig() {
  local name=$1 server=$2
  cat >"$STATE/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sts-sidecar-e2e
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$name.crt")
    client-key-data: $(base64 -w0 <"$PKI/$name.key")
contexts:
- name: sts-sidecar-e2e
  context: {cluster: sts-sidecar-e2e, user: $name}
current-context: sts-sidecar-e2e
EOF
}

pki_create() {
  mkdir -p "$PKI"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -subj "/CN=sts-sidecar-e2e-ca" -days 2 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  # The names a client may use for the API server: the node address (pods, kubelet, stores in the
  # namespace), the host's forwarded loopback port (tests), and the `kubernetes` Service.
  pki_issue apiserver kube-apiserver "" \
    "IP:$NODE_IP,IP:127.0.0.1,IP:$KUBERNETES_SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  pki_issue admin kubernetes-admin system:masters
  pki_issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  pki_issue controller-manager system:kube-controller-manager
  pki_issue scheduler system:kube-scheduler
  pki_issue kube-proxy system:kube-proxy
  pki_issue kubelet "system:node:$NODE_NAME" system:nodes
  # The kubelet's own serving certificate, so `kubectl logs` needs no self-signed exception.
  pki_issue kubelet-serving "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
  # Service-account tokens: the API server signs with the private key and publishes the public
  # one in its JWKS (/openid/v1/jwks).
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  # The keys that verify, one per line; the last signs (node.sh rotate-signing-key adds more).
  printf 'sa\n' >"$PKI/sa-keys"
  # Inside the namespace components dial the node address; on the host, the forwarded port.
  pki_kubeconfig controller-manager "https://$NODE_IP:$APISERVER_PORT"
  pki_kubeconfig scheduler "https://$NODE_IP:$APISERVER_PORT"
  pki_kubeconfig kube-proxy "https://$NODE_IP:$APISERVER_PORT"
  pki_kubeconfig kubelet "https://$NODE_IP:$APISERVER_PORT"
  pki_kubeconfig admin "https://127.0.0.1:$HOST_APISERVER_PORT"
}
