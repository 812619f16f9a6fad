/**
 * The webhook's options (`sts-sidecar webhook`): one row each, the single source for flag
 * parsing, `--help` and docs/webhook.md. Defaults live here, in one place (pino defaultOptions).
 */
import { KUBECONFIG_OPTION, servedComponentOptions } from './served-options.ts';
import type { OptionSpec } from './option-spec.ts';
import { PORT_RANGE } from './sidecar-options.ts';
import { FLAVORS } from './stores.ts';

export type WebhookOptionKey =
  | 'tlsCertFile'
  | 'tlsKeyFile'
  | 'listenHost'
  | 'listenPort'
  | 'opsHost'
  | 'opsPort'
  | 'sidecarImage'
  | 'imagePullPolicy'
  | 'fsGroup'
  | 'stsEndpoint'
  | 'flavor'
  | 'roleArn'
  | 'audience'
  | 'tokenExpirationSeconds'
  | 'durationSeconds'
  | 's3Endpoint'
  | 'sidecarCpuRequest'
  | 'sidecarMemoryRequest'
  | 'sidecarCpuLimit'
  | 'sidecarMemoryLimit'
  | 'serviceAccountLookupGraceMs'
  | 'kubeconfig'
  | 'drainSeconds'
  | 'shutdownGraceSeconds'
  | 'logLevel';

export type WebhookOptionSpec = OptionSpec<WebhookOptionKey>;

export const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

const IMAGE_REQUIRED =
  'is required: the sts-sidecar image to inject, e.g. registry.example/sts-sidecar:0.1.0.';

/**
 * expirationSeconds of a projected token: Kubernetes refuses less than 600 (the API's
 * ServiceAccountTokenProjection validation); 86400 is the EKS pod-identity webhook's default and a
 * sane ceiling for a token only the sidecar reads. Sources: docs/design/upstream-facts.md ("Kubernetes").
 */
export const TOKEN_EXPIRATION_RANGE = { min: 600, max: 86_400 } as const;

export const WEBHOOK_OPTIONS: readonly WebhookOptionSpec[] = [
  {
    key: 'tlsCertFile',
    env: 'STS_SIDECAR_WEBHOOK_TLS_CERT_FILE',
    flag: 'tls-cert-file',
    defaultValue: '/etc/sts-sidecar-webhook/tls/tls.crt',
    doc: 'PEM certificate (chain) of the HTTPS listener; re-read when it changes (cert-manager rotation).',
    kind: 'string',
  },
  {
    key: 'tlsKeyFile',
    env: 'STS_SIDECAR_WEBHOOK_TLS_KEY_FILE',
    flag: 'tls-key-file',
    defaultValue: '/etc/sts-sidecar-webhook/tls/tls.key',
    doc: 'PEM private key matching --tls-cert-file; re-read with it.',
    kind: 'string',
  },
  {
    key: 'listenHost',
    env: 'STS_SIDECAR_WEBHOOK_LISTEN_HOST',
    flag: 'listen-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the HTTPS admission listener (POST /mutate).',
    kind: 'ip',
  },
  {
    key: 'listenPort',
    env: 'STS_SIDECAR_WEBHOOK_LISTEN_PORT',
    flag: 'listen-port',
    defaultValue: '8443',
    doc: 'Port of the HTTPS admission listener (0 picks a free one, for tests).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'opsHost',
    env: 'STS_SIDECAR_WEBHOOK_OPS_HOST',
    flag: 'ops-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the ops listener (/healthz, /readyz, /metrics).',
    kind: 'ip',
  },
  {
    key: 'opsPort',
    env: 'STS_SIDECAR_WEBHOOK_OPS_PORT',
    flag: 'ops-port',
    defaultValue: '9188',
    doc: 'Port of the ops listener (0 picks a free one).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'sidecarImage',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_IMAGE',
    flag: 'sidecar-image',
    doc: 'Required. Image of the injected sidecar, e.g. registry.example/sts-sidecar:0.1.0 (pin a digest in production).',
    kind: 'string',
    required: IMAGE_REQUIRED,
    pattern: { regex: /^\S+$/, problem: IMAGE_REQUIRED },
  },
  {
    key: 'imagePullPolicy',
    env: 'STS_SIDECAR_WEBHOOK_IMAGE_PULL_POLICY',
    flag: 'image-pull-policy',
    defaultValue: 'IfNotPresent',
    doc: `imagePullPolicy of the sidecar: ${IMAGE_PULL_POLICIES.join(', ')}.`,
    kind: 'enum',
    values: IMAGE_PULL_POLICIES,
  },
  {
    key: 'fsGroup',
    env: 'STS_SIDECAR_WEBHOOK_FS_GROUP',
    flag: 'fs-group',
    defaultValue: '65532',
    doc: 'Pod fsGroup added to pods that have none, so app containers can read the 0440 auth-token file.',
    kind: 'integer',
    range: { min: 1, max: 2_147_483_647 },
  },
  {
    key: 'stsEndpoint',
    env: 'STS_SIDECAR_WEBHOOK_STS_ENDPOINT',
    flag: 'sts-endpoint',
    doc: 'Default for sts-sidecar.io/sts-endpoint.',
    kind: 'url',
  },
  {
    key: 'flavor',
    env: 'STS_SIDECAR_WEBHOOK_FLAVOR',
    flag: 'flavor',
    doc: `Default for sts-sidecar.io/flavor (${FLAVORS.join(', ')}).`,
    kind: 'enum',
    values: FLAVORS,
  },
  {
    key: 'roleArn',
    env: 'STS_SIDECAR_WEBHOOK_ROLE_ARN',
    flag: 'role-arn',
    doc: 'Default for sts-sidecar.io/role-arn.',
    kind: 'arn',
  },
  {
    key: 'audience',
    env: 'STS_SIDECAR_WEBHOOK_AUDIENCE',
    flag: 'audience',
    doc: 'Default for sts-sidecar.io/audience.',
    kind: 'string',
  },
  {
    key: 'tokenExpirationSeconds',
    env: 'STS_SIDECAR_WEBHOOK_TOKEN_EXPIRATION_SECONDS',
    flag: 'token-expiration-seconds',
    defaultValue: '3600',
    doc: 'Default for sts-sidecar.io/token-expiration-seconds ({range}).',
    kind: 'integer',
    range: TOKEN_EXPIRATION_RANGE,
  },
  {
    key: 'durationSeconds',
    env: 'STS_SIDECAR_WEBHOOK_DURATION_SECONDS',
    flag: 'duration-seconds',
    defaultValue: '3600',
    doc: 'Default for sts-sidecar.io/duration-seconds: {durations}, checked against --flavor when it is set.',
    kind: 'integer',
    perStore: 'durationSeconds',
  },
  {
    key: 's3Endpoint',
    env: 'STS_SIDECAR_WEBHOOK_S3_ENDPOINT',
    flag: 's3-endpoint',
    doc: 'Default for sts-sidecar.io/s3-endpoint (AWS_ENDPOINT_URL_S3).',
    kind: 'url',
  },
  {
    key: 'sidecarCpuRequest',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_CPU_REQUEST',
    flag: 'sidecar-cpu-request',
    defaultValue: '10m',
    doc: 'Default for sts-sidecar.io/sidecar-cpu-request.',
    kind: 'quantity',
  },
  {
    key: 'sidecarMemoryRequest',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_MEMORY_REQUEST',
    flag: 'sidecar-memory-request',
    defaultValue: '96Mi',
    doc: 'Default for sts-sidecar.io/sidecar-memory-request (the sidecar idles at about 68 MiB RSS).',
    kind: 'quantity',
  },
  {
    key: 'sidecarCpuLimit',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_CPU_LIMIT',
    flag: 'sidecar-cpu-limit',
    defaultValue: '500m',
    doc: 'Default for sts-sidecar.io/sidecar-cpu-limit.',
    kind: 'quantity',
  },
  {
    key: 'sidecarMemoryLimit',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_MEMORY_LIMIT',
    flag: 'sidecar-memory-limit',
    defaultValue: '192Mi',
    doc: 'Default for sts-sidecar.io/sidecar-memory-limit.',
    kind: 'quantity',
  },
  {
    key: 'serviceAccountLookupGraceMs',
    env: 'STS_SIDECAR_WEBHOOK_SERVICE_ACCOUNT_LOOKUP_GRACE_MS',
    flag: 'service-account-lookup-grace-ms',
    defaultValue: '1000',
    doc: 'How long to wait for the watch to deliver a ServiceAccount missing from the cache (created in the same apply, EKS webhook #174) before one GET ({range}).',
    kind: 'integer',
    range: { min: 0, max: 5_000 },
  },
  KUBECONFIG_OPTION,
  ...servedComponentOptions(
    'STS_SIDECAR_WEBHOOK_',
    'After SIGTERM, keep answering admission requests this long ({range}) with /readyz at 503, while the Service stops routing here; under failurePolicy Ignore a request refused meanwhile would admit the pod without the sidecar.',
  ),
];
