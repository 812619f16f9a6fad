#!/usr/bin/env bash
# Store-side setup for the RGW example: registers the cluster's service-account issuer as an OIDC
# provider at RGW and creates the role the example app assumes. Runs the aws CLI against RGW's
# IAM API with the keys of an RGW user that may manage OIDC providers and roles:
#
#   radosgw-admin user create --uid sts-admin --display-name "sts-sidecar setup"
#   radosgw-admin caps add --uid sts-admin --caps "oidc-provider=*;roles=*"
#
#   AWS_ACCESS_KEY_ID=<its access key> AWS_SECRET_ACCESS_KEY=<its secret key> \
#   RGW_ENDPOINT=https://rgw.example.internal bash setup-rgw.sh
#
# Inputs (environment):
#   RGW_ENDPOINT     required; RGW's S3/IAM endpoint
#   ISSUER           the cluster's service-account issuer; default: what the API server publishes
#                    (kubectl get --raw /.well-known/openid-configuration)
#   AUDIENCE         token audience = the provider's ClientIDList (default sts.example.internal)
#   NAMESPACE, SERVICE_ACCOUNT   the pod's identity (default demo, s3-app)
#   ROLE_NAME        default s3-app
#   THUMBPRINT       SHA-1 of the issuer's TLS certificate, 40 hex digits; default: fetched with
#                    openssl from the issuer's host (the last certificate it presents)
#
# The trust policy is trust-policy.json with the example's issuer, audience and subject replaced
# by these values; the role's S3 permissions are role-policy.json as it is. Tested against RGW
# 16.2.15 by test/e2e/deploy-rgw.e2e.test.ts.
set -euo pipefail
cd "$(dirname "$0")"

: "${RGW_ENDPOINT:?set RGW_ENDPOINT to the RGW endpoint, e.g. https://rgw.example.internal}"
if [[ -z "${ISSUER:-}" ]]; then
  ISSUER="$(kubectl get --raw /.well-known/openid-configuration | sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p')"
fi
: "${ISSUER:?could not read the issuer; set ISSUER}"
AUDIENCE="${AUDIENCE:-sts.example.internal}"
NAMESPACE="${NAMESPACE:-demo}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-s3-app}"
ROLE_NAME="${ROLE_NAME:-s3-app}"

# RGW names the provider after the issuer without its scheme (port and path kept); the same
# string prefixes the condition keys (<issuer>:aud, <issuer>:sub).
ISSUER_ID="${ISSUER#https://}"
ISSUER_HOST="${ISSUER_ID%%/*}"
if [[ -z "${THUMBPRINT:-}" ]]; then
  [[ "$ISSUER_HOST" == *:* ]] || ISSUER_HOST="$ISSUER_HOST:443"
  THUMBPRINT="$(openssl s_client -connect "$ISSUER_HOST" -servername "${ISSUER_HOST%:*}" -showcerts </dev/null 2>/dev/null |
    awk '/BEGIN CERTIFICATE/ { pem = "" } { pem = pem $0 "\n" } /END CERTIFICATE/ { last = pem } END { printf "%s", last }' |
    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
fi
[[ "$THUMBPRINT" =~ ^[0-9A-Fa-f]{40}$ ]] || { echo "THUMBPRINT must be 40 hex digits, got '$THUMBPRINT'" >&2; exit 1; }

rgw_iam() { aws --endpoint-url "$RGW_ENDPOINT" iam "$@"; }

echo "OIDC provider: $ISSUER (client ID $AUDIENCE, thumbprint $THUMBPRINT)" >&2
rgw_iam create-open-id-connect-provider --url "$ISSUER" \
  --client-id-list "$AUDIENCE" --thumbprint-list "$THUMBPRINT" >&2

# Compact JSON: RGW 16.2.15 fails to parse a policy document that holds spaces or line breaks
# (400 "Unknown"; its log: "failed to parse policy: Missing a name for object member"). The files
# hold no spaces inside values, so deleting them all is safe.
one_line() { tr -d ' \n' <"$1"; }
trust="$(one_line trust-policy.json | sed -e "s|k8s-oidc.example.internal|$ISSUER_ID|g" \
  -e "s|\"sts.example.internal\"|\"$AUDIENCE\"|g" \
  -e "s|system:serviceaccount:demo:s3-app|system:serviceaccount:$NAMESPACE:$SERVICE_ACCOUNT|g")"
echo "role $ROLE_NAME for system:serviceaccount:$NAMESPACE:$SERVICE_ACCOUNT" >&2
rgw_iam create-role --role-name "$ROLE_NAME" --assume-role-policy-document "$trust" \
  --query Role.Arn --output text
rgw_iam put-role-policy --role-name "$ROLE_NAME" --policy-name s3-access \
  --policy-document "$(one_line role-policy.json)" >&2
