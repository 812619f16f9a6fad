import { LOG_LEVELS } from '../shared/log.ts';
import type { OptionSpec } from './option-spec.ts';
import { MAX_POLICY_CHARS } from './session-policy.ts';
import { FLAVORS, type Range } from './stores.ts';

/**
 * The sidecar's options: one row each, the single source for flag parsing, `--help` and the
 * options table of docs/configuration.md (generated from this list; a test checks it).
 */

export type SidecarOptionKey =
  | 'stsEndpoint'
  | 'flavor'
  | 'roleArn'
  | 'roleSessionName'
  | 'durationSeconds'
  | 'sessionPolicy'
  | 'tokenFile'
  | 'caFile'
  | 'stsTimeoutSeconds'
  | 'region'
  | 'maxRefreshIntervalSeconds'
  | 'listenHost'
  | 'listenPort'
  | 'credentialsPath'
  | 'allowNonLoopback'
  | 'authTokenFile'
  | 'authTokenSource'
  | 'opsHost'
  | 'opsPort'
  | 'shutdownGraceSeconds'
  | 'logLevel';

export type SidecarOptionSpec = OptionSpec<SidecarOptionKey>;

export const AUTH_TOKEN_SOURCES = ['generate', 'file'] as const;
export type AuthTokenSource = (typeof AUTH_TOKEN_SOURCES)[number];

/** Where the projected token lands when the webhook injects the sidecar. */
export const DEFAULT_TOKEN_FILE = '/var/run/secrets/sts-sidecar/serviceaccount/token';

/** Where the endpoint auth token goes: a shared in-memory emptyDir (see the webhook). */
export const DEFAULT_AUTH_TOKEN_FILE = '/var/run/sts-sidecar/auth/token';

/** Unprivileged ports: the sidecar runs as non-root. */
export const PORT_RANGE: Range = { min: 1024, max: 65_535 };

/** RoleSessionName's alphabet and length (STS API; RGW checks the same set). */
export const SESSION_NAME_PATTERN = /^[A-Za-z0-9_=,.@-]{2,64}$/;

/** Downward-API variables the session name is derived from. */
export const ENV_POD_NAME = 'POD_NAME';
export const ENV_POD_NAMESPACE = 'POD_NAMESPACE';

export const SIDECAR_OPTIONS: readonly SidecarOptionSpec[] = [
  {
    key: 'stsEndpoint',
    env: 'STS_SIDECAR_STS_ENDPOINT',
    flag: 'sts-endpoint',
    doc: 'Required. URL of the STS endpoint (the RGW or MinIO base URL), http:// or https://.',
    kind: 'url',
    required: 'is required: the URL of the store, e.g. https://rgw.example.internal:443.',
  },
  {
    key: 'flavor',
    env: 'STS_SIDECAR_FLAVOR',
    flag: 'flavor',
    doc: 'Required. Which store answers STS: `rgw` (RoleArn required), `minio` (RoleArn optional) or `aws`.',
    kind: 'enum',
    values: FLAVORS,
    required: `is required: set it to one of ${FLAVORS.join(', ')}.`,
  },
  {
    key: 'roleArn',
    env: 'STS_SIDECAR_ROLE_ARN',
    flag: 'role-arn',
    doc: 'Role to assume, e.g. `arn:aws:iam:::role/app`. Sent only when set; required for rgw and aws.',
    kind: 'arn',
  },
  {
    key: 'roleSessionName',
    env: 'STS_SIDECAR_ROLE_SESSION_NAME',
    flag: 'role-session-name',
    doc: 'RoleSessionName, 2-64 chars of `[A-Za-z0-9_=,.@-]`. Default: `<POD_NAMESPACE>.<POD_NAME>` mapped to that set, else `sts-sidecar`.',
    kind: 'string',
    pattern: { regex: SESSION_NAME_PATTERN, problem: 'must be 2-64 characters from [A-Za-z0-9_=,.@-].' },
  },
  {
    key: 'durationSeconds',
    env: 'STS_SIDECAR_DURATION_SECONDS',
    flag: 'duration-seconds',
    defaultValue: '3600',
    doc: "DurationSeconds, always sent: {durations}. RGW also rejects values above the role's max session duration (3600 by default).",
    kind: 'integer',
    perStore: 'durationSeconds',
  },
  {
    key: 'sessionPolicy',
    env: 'STS_SIDECAR_SESSION_POLICY',
    flag: 'session-policy',
    doc: `Inline session policy (JSON, at most ${MAX_POLICY_CHARS} characters) that narrows the role.`,
    kind: 'string',
  },
  {
    key: 'tokenFile',
    env: 'STS_SIDECAR_TOKEN_FILE',
    flag: 'token-file',
    defaultValue: DEFAULT_TOKEN_FILE,
    doc: 'Projected service-account token file, re-read for every exchange.',
    kind: 'string',
  },
  {
    key: 'caFile',
    env: 'STS_SIDECAR_CA_FILE',
    flag: 'ca-file',
    doc: "PEM bundle of CAs to trust for an https STS endpoint (self-signed RGW/MinIO). Default: Node's built-in CAs.",
    kind: 'string',
  },
  {
    key: 'stsTimeoutSeconds',
    env: 'STS_SIDECAR_STS_TIMEOUT_SECONDS',
    flag: 'sts-timeout-seconds',
    defaultValue: '10',
    doc: 'Deadline for one STS request, connection included ({range}).',
    kind: 'integer',
    range: { min: 1, max: 120 },
  },
  {
    key: 'region',
    env: 'STS_SIDECAR_REGION',
    flag: 'region',
    defaultValue: 'us-east-1',
    doc: 'Region name sent to STS; RGW ignores it and MinIO expects its own (us-east-1 by default).',
    kind: 'string',
    pattern: { regex: /^[a-z0-9-]{1,64}$/, problem: 'must be lower-case letters, digits and dashes.' },
  },
  {
    key: 'maxRefreshIntervalSeconds',
    env: 'STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS',
    flag: 'max-refresh-interval-seconds',
    doc: 'Refresh at least this often ({range}), even when the credentials would last longer. Default: only the lifetime rule (50 % +- 10 %).',
    kind: 'integer',
    range: { min: 1, max: 43_200 },
  },
  {
    key: 'listenHost',
    env: 'STS_SIDECAR_LISTEN_HOST',
    flag: 'listen-host',
    defaultValue: '127.0.0.1',
    doc: 'Address of the credentials endpoint. Loopback only (127.0.0.0/8 or ::1) unless --allow-non-loopback true. Use the literal IP in AWS_CONTAINER_CREDENTIALS_FULL_URI.',
    kind: 'ip',
  },
  {
    key: 'listenPort',
    env: 'STS_SIDECAR_LISTEN_PORT',
    flag: 'listen-port',
    defaultValue: '8187',
    doc: 'Port of the credentials endpoint ({range}; 0 picks a free one, for tests).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'credentialsPath',
    env: 'STS_SIDECAR_CREDENTIALS_PATH',
    flag: 'credentials-path',
    defaultValue: '/v1/credentials',
    doc: 'Path of the credentials endpoint.',
    kind: 'string',
    pattern: {
      regex: /^\/[A-Za-z0-9._~/-]*$/,
      problem: 'must start with / and hold only URL path characters.',
    },
  },
  {
    key: 'allowNonLoopback',
    env: 'STS_SIDECAR_ALLOW_NON_LOOPBACK',
    flag: 'allow-non-loopback',
    defaultValue: 'false',
    doc: 'Set to `true` to let --listen-host be a non-loopback address (logged as a warning at start).',
    kind: 'boolean',
  },
  {
    key: 'authTokenFile',
    env: 'STS_SIDECAR_AUTH_TOKEN_FILE',
    flag: 'auth-token-file',
    defaultValue: DEFAULT_AUTH_TOKEN_FILE,
    doc: 'File holding the endpoint auth token that apps read via AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; put it on an in-memory emptyDir.',
    kind: 'string',
  },
  {
    key: 'authTokenSource',
    env: 'STS_SIDECAR_AUTH_TOKEN_SOURCE',
    flag: 'auth-token-source',
    defaultValue: 'generate',
    doc: '`generate`: write 32 random bytes (hex, mode 0440) to --auth-token-file at start. `file`: use the token an operator put there (re-read when it changes).',
    kind: 'enum',
    values: AUTH_TOKEN_SOURCES,
  },
  {
    key: 'opsHost',
    env: 'STS_SIDECAR_OPS_HOST',
    flag: 'ops-host',
    defaultValue: '0.0.0.0',
    doc: 'Address of the ops listener (/healthz, /readyz, /metrics), reachable by the kubelet and Prometheus.',
    kind: 'ip',
  },
  {
    key: 'opsPort',
    env: 'STS_SIDECAR_OPS_PORT',
    flag: 'ops-port',
    defaultValue: '9187',
    doc: 'Port of the ops listener ({range}; 0 picks a free one).',
    kind: 'integer',
    range: PORT_RANGE,
    allowZero: true,
  },
  {
    key: 'shutdownGraceSeconds',
    env: 'STS_SIDECAR_SHUTDOWN_GRACE_SECONDS',
    flag: 'shutdown-grace-seconds',
    defaultValue: '5',
    doc: 'After SIGTERM, keep serving still-valid credentials this long ({range}) before closing the listeners.',
    kind: 'integer',
    range: { min: 0, max: 600 },
  },
  {
    key: 'logLevel',
    env: 'STS_SIDECAR_LOG_LEVEL',
    flag: 'log-level',
    defaultValue: 'info',
    doc: `Log level: ${LOG_LEVELS.join(', ')}.`,
    kind: 'enum',
    values: LOG_LEVELS,
  },
];
