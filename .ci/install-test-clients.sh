#!/usr/bin/env bash
# Makes the real clients that test/integration/real-clients.test.ts and the e2e suites
# (test/helpers/s3-clients.ts) drive available on a fresh Debian machine: boto3 and the AWS CLI,
# new enough to read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and the Go S3 client
# (aws-sdk-go-v2, test/clients/go-s3) built by .ci/build-go-client.sh. (aws-sdk-js-v3 comes from
# `npm ci`.) Idempotent: checks first, installs only what is missing or too old. Ends with one
# version line per client, for the client table of docs/compatibility.md.
#
# Without Go the Go client is reported loudly and its tests skip with the reason (like a peer
# that cannot be set up in .ci/run); boto3 and the aws CLI missing is an error.
#
# Both come from PyPI, not apt: Debian 12's python3-boto3 (1.26) and awscli (2.9) predate the
# token-file variable, which arrived with EKS Pod Identity (AWS EKS user guide, "Use pod identity
# with the AWS SDK": boto3/botocore 1.34.41, AWS CLI 1.30.0 / 2.15.0). rclone is not installed:
# Debian's rclone 1.60 is built with aws-sdk-go 1.44, which reads only AWS_CONTAINER_AUTHORIZATION_TOKEN.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly AWS_CLI_V1_MIN=1.30.0
readonly AWS_CLI_V2_MIN=2.15.0

# botocore's ContainerProvider names the file variable exactly when it reads it.
boto3_ok() {
  python3 -c 'import boto3, botocore.credentials as c; assert c.ContainerProvider.ENV_VAR_AUTH_TOKEN_FILE' \
    >/dev/null 2>&1
}

aws_ok() {
  command -v aws >/dev/null || return 1
  local version min
  version=$(aws --version 2>&1 | sed -n 's|^aws-cli/\([0-9.]*\).*|\1|p')
  [[ -n $version ]] || return 1
  if [[ $version == 1.* ]]; then min=$AWS_CLI_V1_MIN; else min=$AWS_CLI_V2_MIN; fi
  # sort -V -C succeeds when the lines are already in order, i.e. min <= version.
  printf '%s\n%s\n' "$min" "$version" | sort -V -C
}

apt_install() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if ! boto3_ok || ! aws_ok; then
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  # Debian marks its python3 "externally managed" (PEP 668) and pip refuses to install into it;
  # this is a throwaway CI machine, so install anyway. Older pips ignore these variables.
  export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
  python3 -m pip install --quiet --upgrade boto3 awscli
  hash -r
fi

boto3_ok || {
  echo "install-test-clients: boto3 still missing or too old for AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" >&2
  exit 1
}
aws_ok || {
  echo "install-test-clients: aws CLI still missing or older than $AWS_CLI_V1_MIN / $AWS_CLI_V2_MIN" >&2
  exit 1
}

go_client=ok
bash .ci/build-go-client.sh install || go_client=failed

python3 -c 'import boto3, botocore, sys; print(f"boto3 {boto3.__version__} (botocore {botocore.__version__}, Python {sys.version.split()[0]})")'
aws --version 2>&1
for pkg in @aws-sdk/credential-provider-node @aws-sdk/client-s3; do
  if [[ -f node_modules/$pkg/package.json ]]; then
    printf '%s %s\n' "$pkg" "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "node_modules/$pkg/package.json")"
  fi
done
if [[ $go_client == ok ]]; then
  bash .ci/build-go-client.sh version
else
  echo "WARNING: the Go S3 client (aws-sdk-go-v2) could not be built; the e2e suites skip it" >&2
fi
