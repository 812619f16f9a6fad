/**
 * The webhook's options (`sts-sidecar webhook`): one row each, the single source for flag
 * parsing, `--help` and the README. Defaults live here, in one place (pino defaultOptions).
 */

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

export interface WebhookOptionSpec {
  readonly key: WebhookOptionKey;
  readonly env: string;
  readonly flag: string;
  readonly defaultValue?: string;
  readonly doc: string;
}

export const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export const WEBHOOK_OPTIONS: readonly WebhookOptionSpec[] = [
  {
    key: 'tlsCertFile',
    env: 'STS_SIDECAR_WEBHOOK_TLS_CERT_FILE',
    flag: 'tls-cert-file',
    defaultValue: '/etc/sts-sidecar-webhook/tls/tls.crt',
    doc: 'PEM certificate (chain) of the HTTPS listener; re-read when it changes (cert-manager rotation).',
  },
  {
    key: 'tlsKeyFile',
    env: 'STS_SIDECAR_WEBHOOK_TLS_KEY_FILE',
    flag: 'tls-key-file',
    defaultValue: '/etc/sts-sidecar-webhook/tls/tls.key',
    doc: 'PEM private key matching --tls-cert-file; re-read with it.',
  },
  {
    key: 'listenHost',
    env: 'STS_SIDECAR_WEBHOOK_LISTEN_HOST',
    flag: 'listen-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the HTTPS admission listener (POST /mutate).',
  },
  {
    key: 'listenPort',
    env: 'STS_SIDECAR_WEBHOOK_LISTEN_PORT',
    flag: 'listen-port',
    defaultValue: '8443',
    doc: 'Port of the HTTPS admission listener (0 picks a free one, for tests).',
  },
  {
    key: 'opsHost',
    env: 'STS_SIDECAR_WEBHOOK_OPS_HOST',
    flag: 'ops-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the ops listener (/healthz, /readyz, /metrics).',
  },
  {
    key: 'opsPort',
    env: 'STS_SIDECAR_WEBHOOK_OPS_PORT',
    flag: 'ops-port',
    defaultValue: '9188',
    doc: 'Port of the ops listener (0 picks a free one).',
  },
  {
    key: 'sidecarImage',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_IMAGE',
    flag: 'sidecar-image',
    doc: 'Required. Image of the injected sidecar, e.g. registry.example/sts-sidecar:0.1.0 (pin a digest in production).',
  },
  {
    key: 'imagePullPolicy',
    env: 'STS_SIDECAR_WEBHOOK_IMAGE_PULL_POLICY',
    flag: 'image-pull-policy',
    defaultValue: 'IfNotPresent',
    doc: `imagePullPolicy of the sidecar: ${IMAGE_PULL_POLICIES.join(', ')}.`,
  },
  {
    key: 'fsGroup',
    env: 'STS_SIDECAR_WEBHOOK_FS_GROUP',
    flag: 'fs-group',
    defaultValue: '65532',
    doc: 'Pod fsGroup added to pods that have none, so app containers can read the 0440 auth-token file.',
  },
  {
    key: 'stsEndpoint',
    env: 'STS_SIDECAR_WEBHOOK_STS_ENDPOINT',
    flag: 'sts-endpoint',
    doc: 'Default for sts-sidecar.io/sts-endpoint.',
  },
  {
    key: 'flavor',
    env: 'STS_SIDECAR_WEBHOOK_FLAVOR',
    flag: 'flavor',
    doc: 'Default for sts-sidecar.io/flavor (rgw, minio, aws).',
  },
  {
    key: 'roleArn',
    env: 'STS_SIDECAR_WEBHOOK_ROLE_ARN',
    flag: 'role-arn',
    doc: 'Default for sts-sidecar.io/role-arn.',
  },
  {
    key: 'audience',
    env: 'STS_SIDECAR_WEBHOOK_AUDIENCE',
    flag: 'audience',
    doc: 'Default for sts-sidecar.io/audience.',
  },
  {
    key: 'tokenExpirationSeconds',
    env: 'STS_SIDECAR_WEBHOOK_TOKEN_EXPIRATION_SECONDS',
    flag: 'token-expiration-seconds',
    defaultValue: '3600',
    doc: 'Default for sts-sidecar.io/token-expiration-seconds (research/anchors.md table (c)).',
  },
  {
    key: 'durationSeconds',
    env: 'STS_SIDECAR_WEBHOOK_DURATION_SECONDS',
    flag: 'duration-seconds',
    defaultValue: '3600',
    doc: 'Default for sts-sidecar.io/duration-seconds.',
  },
  {
    key: 's3Endpoint',
    env: 'STS_SIDECAR_WEBHOOK_S3_ENDPOINT',
    flag: 's3-endpoint',
    doc: 'Default for sts-sidecar.io/s3-endpoint (AWS_ENDPOINT_URL_S3).',
  },
  {
    key: 'sidecarCpuRequest',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_CPU_REQUEST',
    flag: 'sidecar-cpu-request',
    defaultValue: '10m',
    doc: 'Default for sts-sidecar.io/sidecar-cpu-request.',
  },
  {
    key: 'sidecarMemoryRequest',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_MEMORY_REQUEST',
    flag: 'sidecar-memory-request',
    defaultValue: '96Mi',
    doc: 'Default for sts-sidecar.io/sidecar-memory-request (the sidecar idles at about 68 MiB RSS).',
  },
  {
    key: 'sidecarCpuLimit',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_CPU_LIMIT',
    flag: 'sidecar-cpu-limit',
    defaultValue: '500m',
    doc: 'Default for sts-sidecar.io/sidecar-cpu-limit.',
  },
  {
    key: 'sidecarMemoryLimit',
    env: 'STS_SIDECAR_WEBHOOK_SIDECAR_MEMORY_LIMIT',
    flag: 'sidecar-memory-limit',
    defaultValue: '192Mi',
    doc: 'Default for sts-sidecar.io/sidecar-memory-limit.',
  },
  {
    key: 'serviceAccountLookupGraceMs',
    env: 'STS_SIDECAR_WEBHOOK_SERVICE_ACCOUNT_LOOKUP_GRACE_MS',
    flag: 'service-account-lookup-grace-ms',
    defaultValue: '1000',
    doc: 'How long to wait for the watch to deliver a ServiceAccount missing from the cache (created in the same apply, EKS webhook #174) before one GET (0-5000).',
  },
  {
    key: 'kubeconfig',
    env: 'KUBECONFIG',
    flag: 'kubeconfig',
    doc: 'Kubeconfig file. Default: the in-cluster service account.',
  },
  {
    key: 'drainSeconds',
    env: 'STS_SIDECAR_WEBHOOK_DRAIN_SECONDS',
    flag: 'drain-seconds',
    defaultValue: '5',
    doc: 'After SIGTERM, keep answering admission requests this long (0-60) with /readyz at 503, while the Service stops routing here; under failurePolicy Ignore a request refused meanwhile would admit the pod without the sidecar.',
  },
  {
    key: 'shutdownGraceSeconds',
    env: 'STS_SIDECAR_WEBHOOK_SHUTDOWN_GRACE_SECONDS',
    flag: 'shutdown-grace-seconds',
    defaultValue: '5',
    doc: 'After the drain, finish requests in progress for at most this long (0-60).',
  },
  {
    key: 'logLevel',
    env: 'STS_SIDECAR_WEBHOOK_LOG_LEVEL',
    flag: 'log-level',
    defaultValue: 'info',
    doc: 'Log level: trace, debug, info, warn, error, fatal, silent.',
  },
];
