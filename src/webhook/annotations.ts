/**
 * Every label and annotation the webhook reads or writes, in one place (vault-k8s
 * agent-inject/agent/annotations.go). The annotation table of docs/webhook.md is generated from
 * {@link ANNOTATIONS} by test/unit/webhook-annotations.test.ts.
 */
import { defaultOf, rangeOf } from '../config/option-spec.ts';
import { PORT_RANGE, SIDECAR_OPTIONS } from '../config/sidecar-options.ts';
import { MAX_POLICY_CHARS } from '../config/session-policy.ts';
import { FLAVORS, type Range } from '../config/stores.ts';
import { TOKEN_EXPIRATION_RANGE, WEBHOOK_OPTIONS } from '../config/webhook-options.ts';

/** Common prefix of every key. */
export const PREFIX = 'sts-sidecar.io/';

/**
 * Pod label that opts a pod in. A label (not an annotation) so the MutatingWebhookConfiguration
 * can select on it with an objectSelector and the API server never calls us for other pods.
 */
export const LABEL_INJECT = `${PREFIX}inject`;

/** Written by the webhook on injection; a pod that carries it is never injected twice. */
export const ANNOTATION_STATUS = `${PREFIX}status`;
/** The value of {@link ANNOTATION_STATUS} after injection. */
export const STATUS_INJECTED = 'injected';

/** Role to assume (RoleArn). */
export const ANNOTATION_ROLE_ARN = `${PREFIX}role-arn`;
/** Audience of the projected service-account token: the OIDC client ID the store expects. */
export const ANNOTATION_AUDIENCE = `${PREFIX}audience`;
/** expirationSeconds of the projected token; Kubernetes requires at least 600. */
export const ANNOTATION_TOKEN_EXPIRATION = `${PREFIX}token-expiration-seconds`;
/** DurationSeconds sent to STS. */
export const ANNOTATION_DURATION = `${PREFIX}duration-seconds`;
/** URL of the store's STS endpoint. */
export const ANNOTATION_STS_ENDPOINT = `${PREFIX}sts-endpoint`;
/** Store profile: rgw, minio or aws (the sidecar's --flavor). */
export const ANNOTATION_FLAVOR = `${PREFIX}flavor`;
/** Refresh at least this often (the sidecar's --max-refresh-interval-seconds). */
export const ANNOTATION_MAX_REFRESH_INTERVAL = `${PREFIX}max-refresh-interval-seconds`;
/** Inline session policy (JSON) that narrows the role. */
export const ANNOTATION_SESSION_POLICY = `${PREFIX}session-policy`;
/** When set, injected as AWS_ENDPOINT_URL_S3 so SDKs talk to the store, not to AWS. */
export const ANNOTATION_S3_ENDPOINT = `${PREFIX}s3-endpoint`;
/** Comma-separated container names (init or app) that get no env and no mount. Pod only. */
export const ANNOTATION_SKIP_CONTAINERS = `${PREFIX}skip-containers`;
/** Port of the loopback credentials endpoint; change it for hostNetwork pods that share a node. */
export const ANNOTATION_LISTEN_PORT = `${PREFIX}listen-port`;
/** Port of the sidecar's ops listener (probes, metrics). */
export const ANNOTATION_OPS_PORT = `${PREFIX}ops-port`;
/** Sidecar resources, Kubernetes quantities. */
export const ANNOTATION_CPU_REQUEST = `${PREFIX}sidecar-cpu-request`;
export const ANNOTATION_MEMORY_REQUEST = `${PREFIX}sidecar-memory-request`;
export const ANNOTATION_CPU_LIMIT = `${PREFIX}sidecar-cpu-limit`;
export const ANNOTATION_MEMORY_LIMIT = `${PREFIX}sidecar-memory-limit`;

/** Where an annotation may be set. */
export type AnnotationScope = 'pod' | 'pod-or-service-account';

/** One configurable annotation: the single source for parsing, errors and the docs' table. */
export interface AnnotationSpec {
  readonly key: string;
  readonly scope: AnnotationScope;
  /** Default as shown to users: a literal, or where it comes from. */
  readonly defaultText: string;
  readonly example: string;
  /** One sentence for docs/webhook.md; `{range}` and `{durations}` render as in option-spec.ts. */
  readonly doc: string;
  /** A whole-number annotation's accepted range (DurationSeconds: per store, config/stores.ts). */
  readonly range?: Range;
}

/**
 * At least a minute: a shorter bound would only multiply STS calls (every pod, every bound). The
 * sidecar's own flag accepts from 1 s (tests and experiments); the ceiling is the flag's.
 */
const MAX_REFRESH_INTERVAL_RANGE: Range = {
  min: 60,
  max: rangeOf(SIDECAR_OPTIONS, 'maxRefreshIntervalSeconds').max,
};

/** The range of a whole-number annotation (a bug in the table when there is none). */
export function annotationRange(key: string): Range {
  const range = ANNOTATIONS.find((a) => a.key === key)?.range;
  if (range === undefined) throw new Error(`annotation ${key} has no range`);
  return range;
}

export const ANNOTATIONS: readonly AnnotationSpec[] = [
  {
    key: ANNOTATION_STS_ENDPOINT,
    scope: 'pod-or-service-account',
    defaultText: 'webhook `--sts-endpoint`; required',
    example: 'https://rgw.example.internal',
    doc: 'STS endpoint of the store (the sidecar’s STS_SIDECAR_STS_ENDPOINT).',
  },
  {
    key: ANNOTATION_FLAVOR,
    scope: 'pod-or-service-account',
    defaultText: 'webhook `--flavor`; required',
    example: 'rgw',
    doc: `Store profile: ${FLAVORS.map((f) => `\`${f}\``)
      .join(', ')
      .replace(/, ([^,]*)$/, ' or $1')}.`,
  },
  {
    key: ANNOTATION_ROLE_ARN,
    scope: 'pod-or-service-account',
    defaultText: 'webhook `--role-arn`; required for rgw and aws',
    example: 'arn:aws:iam:::role/app',
    doc: 'Role to assume.',
  },
  {
    key: ANNOTATION_AUDIENCE,
    scope: 'pod-or-service-account',
    defaultText: 'webhook `--audience`; required',
    example: 'sts.example.internal',
    doc: 'Audience of the projected token: the client ID registered at the store’s OIDC provider (`sts.min.io` for the MinIO Operator).',
  },
  {
    key: ANNOTATION_TOKEN_EXPIRATION,
    scope: 'pod-or-service-account',
    defaultText: `\`${defaultOf(WEBHOOK_OPTIONS, 'tokenExpirationSeconds')}\` (webhook \`--token-expiration-seconds\`)`,
    example: '7200',
    doc: 'expirationSeconds of the projected token, {range}.',
    range: TOKEN_EXPIRATION_RANGE,
  },
  {
    key: ANNOTATION_DURATION,
    scope: 'pod-or-service-account',
    defaultText: `\`${defaultOf(WEBHOOK_OPTIONS, 'durationSeconds')}\` (webhook \`--duration-seconds\`)`,
    example: '1800',
    doc: 'DurationSeconds of the STS session, {durations}.',
  },
  {
    key: ANNOTATION_MAX_REFRESH_INTERVAL,
    scope: 'pod-or-service-account',
    defaultText: 'none (refresh at 50 % ± 10 % of the lifetime only)',
    example: '600',
    doc: 'Refresh at least this often, {range} seconds, even when the credentials would last longer (bounds a key’s age).',
    range: MAX_REFRESH_INTERVAL_RANGE,
  },
  {
    key: ANNOTATION_SESSION_POLICY,
    scope: 'pod-or-service-account',
    defaultText: 'none',
    example: '{"Version":"2012-10-17","Statement":[…]}',
    doc: `Inline session policy, a JSON object of at most ${MAX_POLICY_CHARS} characters.`,
  },
  {
    key: ANNOTATION_S3_ENDPOINT,
    scope: 'pod-or-service-account',
    defaultText: 'webhook `--s3-endpoint`; else not injected',
    example: 'https://s3.example.internal',
    doc: 'Injected as `AWS_ENDPOINT_URL_S3` unless the container already sets it.',
  },
  {
    key: ANNOTATION_SKIP_CONTAINERS,
    scope: 'pod',
    defaultText: 'none',
    example: 'istio-proxy,metrics',
    doc: 'Comma-separated names of containers or init containers that get neither env nor mount.',
  },
  {
    key: ANNOTATION_LISTEN_PORT,
    scope: 'pod',
    defaultText: `\`${defaultOf(SIDECAR_OPTIONS, 'listenPort')}\``,
    example: '18187',
    doc: 'Loopback port of the credentials endpoint, {range} (give hostNetwork pods on one node different ports).',
    range: PORT_RANGE,
  },
  {
    key: ANNOTATION_OPS_PORT,
    scope: 'pod',
    defaultText: `\`${defaultOf(SIDECAR_OPTIONS, 'opsPort')}\``,
    example: '19187',
    doc: 'Port of the sidecar’s /healthz, /readyz, /metrics listener, {range}, different from the listen port.',
    range: PORT_RANGE,
  },
  {
    key: ANNOTATION_CPU_REQUEST,
    scope: 'pod-or-service-account',
    defaultText: '`10m` (webhook `--sidecar-cpu-request`)',
    example: '50m',
    doc: 'CPU request of the sidecar.',
  },
  {
    key: ANNOTATION_MEMORY_REQUEST,
    scope: 'pod-or-service-account',
    defaultText: '`96Mi` (webhook `--sidecar-memory-request`)',
    example: '128Mi',
    doc: 'Memory request of the sidecar (idles at about 68 MiB RSS).',
  },
  {
    key: ANNOTATION_CPU_LIMIT,
    scope: 'pod-or-service-account',
    defaultText: '`500m` (webhook `--sidecar-cpu-limit`)',
    example: '1',
    doc: 'CPU limit of the sidecar.',
  },
  {
    key: ANNOTATION_MEMORY_LIMIT,
    scope: 'pod-or-service-account',
    defaultText: '`192Mi` (webhook `--sidecar-memory-limit`)',
    example: '256Mi',
    doc: 'Memory limit of the sidecar; must not be below the request.',
  },
];
