/**
 * The options of `sts-sidecar issuer`, the OIDC issuer publisher: one row each, the single
 * source for flag parsing, `--help` and the docs. Defaults live here, in one place.
 */
import { KUBECONFIG_OPTION, servedComponentOptions } from './served-options.ts';
import type { OptionSpec } from './option-spec.ts';
import { PORT_RANGE } from './sidecar-options.ts';

export type IssuerOptionKey =
  | 'tlsCertFile'
  | 'tlsKeyFile'
  | 'caKeyFile'
  | 'listenHost'
  | 'listenPort'
  | 'opsHost'
  | 'opsPort'
  | 'issuerUrl'
  | 'x5c'
  | 'refreshIntervalSeconds'
  | 'maxStaleSeconds'
  | 'apiTimeoutSeconds'
  | 'probeNamespace'
  | 'probeServiceAccount'
  | 'kubeconfig'
  | 'drainSeconds'
  | 'shutdownGraceSeconds'
  | 'logLevel';

export type IssuerOptionSpec = OptionSpec<IssuerOptionKey>;

/** A namespace is a DNS-1123 label; a ServiceAccount name a DNS-1123 subdomain. */
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const ISSUER_OPTIONS: readonly IssuerOptionSpec[] = [
  {
    key: 'tlsCertFile',
    env: 'STS_SIDECAR_ISSUER_TLS_CERT_FILE',
    flag: 'tls-cert-file',
    defaultValue: '/etc/sts-sidecar-issuer/tls/tls.crt',
    doc: 'PEM certificate (chain) of the HTTPS listener, for the name stores use; re-read when it changes.',
    kind: 'string',
  },
  {
    key: 'tlsKeyFile',
    env: 'STS_SIDECAR_ISSUER_TLS_KEY_FILE',
    flag: 'tls-key-file',
    defaultValue: '/etc/sts-sidecar-issuer/tls/tls.key',
    doc: 'PEM private key matching --tls-cert-file; re-read with it.',
    kind: 'string',
  },
  {
    key: 'caKeyFile',
    env: 'STS_SIDECAR_ISSUER_CA_KEY_FILE',
    flag: 'ca-key-file',
    defaultValue: '/etc/sts-sidecar-issuer/ca/ca.key',
    doc: 'PEM RSA private key (2048 bits or more) of the CA that issues the x5c certificates; the same key on every replica gives the same thumbprints. Read at start.',
    kind: 'string',
  },
  {
    key: 'listenHost',
    env: 'STS_SIDECAR_ISSUER_LISTEN_HOST',
    flag: 'listen-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the HTTPS listener (discovery, JWKS, thumbprints).',
    kind: 'ip',
  },
  {
    key: 'listenPort',
    env: 'STS_SIDECAR_ISSUER_LISTEN_PORT',
    flag: 'listen-port',
    defaultValue: '8443',
    doc: 'Port of the HTTPS listener (0 picks a free one, for tests).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'opsHost',
    env: 'STS_SIDECAR_ISSUER_OPS_HOST',
    flag: 'ops-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the ops listener (/healthz, /readyz, /metrics).',
    kind: 'ip',
  },
  {
    key: 'opsPort',
    env: 'STS_SIDECAR_ISSUER_OPS_PORT',
    flag: 'ops-port',
    defaultValue: '9189',
    doc: 'Port of the ops listener (0 picks a free one).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'issuerUrl',
    env: 'STS_SIDECAR_ISSUER_ISSUER_URL',
    flag: 'issuer-url',
    doc: "The issuer the stores know (the API server's --service-account-issuer). When set and the API server reports another, the publisher logs both and stays unready.",
    kind: 'url',
  },
  {
    key: 'x5c',
    env: 'STS_SIDECAR_ISSUER_X5C',
    flag: 'x5c',
    defaultValue: 'true',
    doc: "Add an x5c certificate (issued by the CA key) to every key, which Ceph RGW before 18.2.8 / 19.2.3 needs; false serves the API server's keys as they are (newer RGW, MinIO: only the issuer's reachability is needed).",
    kind: 'boolean',
  },
  {
    key: 'refreshIntervalSeconds',
    env: 'STS_SIDECAR_ISSUER_REFRESH_INTERVAL_SECONDS',
    flag: 'refresh-interval-seconds',
    defaultValue: '60',
    doc: "How often to re-read the API server's discovery document and JWKS ({range}); also the documents' cache max-age.",
    kind: 'integer',
    range: { min: 1, max: 3_600 },
  },
  {
    key: 'maxStaleSeconds',
    env: 'STS_SIDECAR_ISSUER_MAX_STALE_SECONDS',
    flag: 'max-stale-seconds',
    defaultValue: '3600',
    doc: 'While the API server cannot be read, the last good documents stay served; /readyz turns 503 once they are older than this ({range}, at least --refresh-interval-seconds).',
    kind: 'integer',
    range: { min: 1, max: 604_800 },
  },
  {
    key: 'apiTimeoutSeconds',
    env: 'STS_SIDECAR_ISSUER_API_TIMEOUT_SECONDS',
    flag: 'api-timeout-seconds',
    defaultValue: '10',
    doc: 'Deadline of one API server request ({range}).',
    kind: 'integer',
    range: { min: 1, max: 60 },
  },
  {
    key: 'probeNamespace',
    env: 'STS_SIDECAR_ISSUER_PROBE_NAMESPACE',
    flag: 'probe-namespace',
    doc: "Namespace of --probe-service-account. Default: the pod's own (the in-cluster service-account namespace file).",
    kind: 'string',
    pattern: { regex: DNS_LABEL, problem: 'is not a namespace name (a DNS-1123 label).' },
  },
  {
    key: 'probeServiceAccount',
    env: 'STS_SIDECAR_ISSUER_PROBE_SERVICE_ACCOUNT',
    flag: 'probe-service-account',
    doc: "ServiceAccount a short-lived TokenRequest is made for when the JWKS has several keys: its header's kid is the signing key, served first. Needs create on serviceaccounts/token for it. The chart sets the publisher's own.",
    kind: 'string',
    pattern: { regex: DNS_SUBDOMAIN, problem: 'is not a ServiceAccount name (a DNS-1123 subdomain).' },
  },
  KUBECONFIG_OPTION,
  ...servedComponentOptions(
    'STS_SIDECAR_ISSUER_',
    'After SIGTERM, keep serving this long ({range}) with /readyz at 503, while the Service stops routing here.',
  ),
];
