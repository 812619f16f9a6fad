import { validateSessionPolicy } from '../config/session-policy.ts';
import { defaultOf } from '../config/option-spec.ts';
import { SIDECAR_OPTIONS } from '../config/sidecar-options.ts';
import { durationRange, FLAVORS, type Flavor } from '../config/stores.ts';
import type { InjectionDefaults } from '../config/webhook-config.ts';
import {
  parseQuantity,
  parseWhole,
  quantityProblem,
  validateArn,
  validateEnum,
  validateUrl,
} from '../config/validators.ts';
import { AnnotationError, type AnnotationIssue } from '../shared/errors.ts';
import {
  ANNOTATION_AUDIENCE,
  ANNOTATION_CPU_LIMIT,
  ANNOTATION_CPU_REQUEST,
  ANNOTATION_DURATION,
  ANNOTATION_FLAVOR,
  ANNOTATION_LISTEN_PORT,
  ANNOTATION_MEMORY_LIMIT,
  ANNOTATION_MEMORY_REQUEST,
  ANNOTATION_OPS_PORT,
  ANNOTATION_ROLE_ARN,
  ANNOTATION_S3_ENDPOINT,
  ANNOTATION_MAX_REFRESH_INTERVAL,
  ANNOTATION_SESSION_POLICY,
  ANNOTATION_SKIP_CONTAINERS,
  ANNOTATION_STATUS,
  ANNOTATION_STS_ENDPOINT,
  ANNOTATION_TOKEN_EXPIRATION,
  annotationRange,
  ANNOTATIONS,
  LABEL_INJECT,
} from './annotations.ts';
import { checkNameClashes } from './injected-names.ts';
import type { Pod } from './pod-types.ts';

/** Sidecar resources, Kubernetes quantities as written. */
export interface SidecarResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Everything the patch needs, validated. */
export interface InjectionPlan {
  readonly stsEndpoint: string;
  readonly flavor: Flavor;
  readonly roleArn: string | undefined;
  readonly audience: string;
  readonly tokenExpirationSeconds: number;
  readonly durationSeconds: number;
  readonly sessionPolicy: string | undefined;
  /** The sidecar's --max-refresh-interval-seconds; undefined: the lifetime rule only. */
  readonly maxRefreshIntervalSeconds: number | undefined;
  readonly s3Endpoint: string | undefined;
  /** Container and init-container names that get no env and no mount. */
  readonly skipContainers: ReadonlySet<string>;
  readonly listenPort: number;
  readonly opsPort: number;
  readonly resources: SidecarResources;
}

/** Why a pod is let through unchanged. */
export type SkipReason = 'not-labelled' | 'already-injected';

export type PlanResult =
  | { readonly action: 'inject'; readonly plan: InjectionPlan }
  | { readonly action: 'skip'; readonly reason: SkipReason };

/** True when the pod opted in and has not been injected yet (no ServiceAccount lookup needed otherwise). */
export function wantsInjection(pod: Pod): PlanResult | undefined {
  if (pod.metadata?.labels?.[LABEL_INJECT] !== 'true') return { action: 'skip', reason: 'not-labelled' };
  if (pod.metadata?.annotations?.[ANNOTATION_STATUS] !== undefined)
    return { action: 'skip', reason: 'already-injected' };
  return undefined;
}

const POD_ONLY = new Set(ANNOTATIONS.filter((a) => a.scope === 'pod').map((a) => a.key));

/**
 * Builds the plan for one pod. Each setting is taken from the first of these that has it:
 *  1. the Pod's annotation (`sts-sidecar.io/<key>`),
 *  2. the ServiceAccount's annotation with the same key (not for pod-only keys such as
 *     skip-containers and the ports, which describe this pod, not the identity),
 *  3. the webhook's default (its flags / STS_SIDECAR_WEBHOOK_* env vars).
 * An empty annotation value counts as set (and is then invalid), so a typo never silently falls
 * through to a broader default.
 *
 * @throws AnnotationError listing every invalid or missing value, each with the annotation and fix.
 */
export function buildInjectionPlan(
  pod: Pod,
  serviceAccountAnnotations: Readonly<Record<string, string>> | undefined,
  defaults: InjectionDefaults,
): PlanResult {
  const early = wantsInjection(pod);
  if (early) return early;
  const podAnnotations = pod.metadata?.annotations ?? {};
  const issues: AnnotationIssue[] = [];
  const lookup = (key: string, fallback: string | undefined): { value: string | undefined; from: string } => {
    if (podAnnotations[key] !== undefined) return { value: podAnnotations[key], from: 'pod' };
    if (!POD_ONLY.has(key) && serviceAccountAnnotations?.[key] !== undefined)
      return { value: serviceAccountAnnotations[key], from: 'service account' };
    return { value: fallback, from: 'webhook default' };
  };
  const problem = (key: string, from: string, text: string): void => {
    issues.push({ annotation: key, source: from, problem: text });
  };

  const endpoint = lookup(ANNOTATION_STS_ENDPOINT, defaults.stsEndpoint);
  const stsEndpoint = validateUrl(endpoint.value, (t) => problem(ANNOTATION_STS_ENDPOINT, endpoint.from, t));

  const flavorIn = lookup(ANNOTATION_FLAVOR, defaults.flavor);
  const flavor: Flavor | undefined = validateEnum(
    flavorIn.value,
    FLAVORS,
    (t) => problem(ANNOTATION_FLAVOR, flavorIn.from, t),
    `is required: set it to one of ${FLAVORS.join(', ')}.`,
  );

  const roleIn = lookup(ANNOTATION_ROLE_ARN, defaults.roleArn);
  const roleArn = roleIn.value;
  if (roleArn !== undefined) validateArn(roleArn, (t) => problem(ANNOTATION_ROLE_ARN, roleIn.from, t));
  if (roleArn === undefined && (flavor === 'rgw' || flavor === 'aws'))
    problem(
      ANNOTATION_ROLE_ARN,
      roleIn.from,
      `is required with flavor ${flavor}: set the role ARN to assume.`,
    );

  const audIn = lookup(ANNOTATION_AUDIENCE, defaults.audience);
  const audience = audIn.value;
  if (audience === undefined || audience.trim() === '' || audience.length > 253)
    problem(
      ANNOTATION_AUDIENCE,
      audIn.from,
      'is required (1-253 characters): the OIDC client ID the store checks the token against.',
    );

  const expIn = lookup(ANNOTATION_TOKEN_EXPIRATION, defaults.tokenExpirationSeconds);
  const tokenExpirationSeconds = parseWhole(expIn.value, annotationRange(ANNOTATION_TOKEN_EXPIRATION), (t) =>
    problem(ANNOTATION_TOKEN_EXPIRATION, expIn.from, t),
  );

  const durIn = lookup(ANNOTATION_DURATION, defaults.durationSeconds);
  // An invalid flavor is reported above; the duration is then checked as for rgw, the strictest.
  const durationSeconds = parseWhole(
    durIn.value,
    durationRange(flavor ?? 'rgw'),
    (t) => problem(ANNOTATION_DURATION, durIn.from, t),
    { note: ` for flavor ${flavor ?? 'rgw'}` },
  );

  const policyIn = lookup(ANNOTATION_SESSION_POLICY, undefined);
  const sessionPolicy = policyIn.value;
  if (sessionPolicy !== undefined)
    validateSessionPolicy(sessionPolicy, (t) => problem(ANNOTATION_SESSION_POLICY, policyIn.from, t));

  const maxRefreshIn = lookup(ANNOTATION_MAX_REFRESH_INTERVAL, undefined);
  const maxRefreshIntervalSeconds =
    maxRefreshIn.value === undefined
      ? undefined
      : parseWhole(maxRefreshIn.value, annotationRange(ANNOTATION_MAX_REFRESH_INTERVAL), (t) =>
          problem(ANNOTATION_MAX_REFRESH_INTERVAL, maxRefreshIn.from, t),
        );

  const s3In = lookup(ANNOTATION_S3_ENDPOINT, defaults.s3Endpoint);
  const s3Endpoint =
    s3In.value === undefined
      ? undefined
      : validateUrl(s3In.value, (t) => problem(ANNOTATION_S3_ENDPOINT, s3In.from, t));

  const skipIn = lookup(ANNOTATION_SKIP_CONTAINERS, undefined);
  const skipContainers = new Set(
    (skipIn.value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  const names = new Set(
    [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name),
  );
  for (const name of skipContainers)
    if (!names.has(name))
      problem(
        ANNOTATION_SKIP_CONTAINERS,
        skipIn.from,
        `names "${name}", which is not a container of this pod.`,
      );

  const listenIn = lookup(ANNOTATION_LISTEN_PORT, defaultOf(SIDECAR_OPTIONS, 'listenPort'));
  const listenPort = parseWhole(listenIn.value, annotationRange(ANNOTATION_LISTEN_PORT), (t) =>
    problem(ANNOTATION_LISTEN_PORT, listenIn.from, t),
  );
  const opsIn = lookup(ANNOTATION_OPS_PORT, defaultOf(SIDECAR_OPTIONS, 'opsPort'));
  const opsPort = parseWhole(opsIn.value, annotationRange(ANNOTATION_OPS_PORT), (t) =>
    problem(ANNOTATION_OPS_PORT, opsIn.from, t),
  );
  if (listenPort !== undefined && listenPort === opsPort)
    problem(ANNOTATION_OPS_PORT, opsIn.from, `must differ from ${ANNOTATION_LISTEN_PORT} (${listenPort}).`);

  const quantity = (key: string, fallback: string) => {
    const input = lookup(key, fallback);
    const amount = parseQuantity(input.value);
    if (amount === undefined) problem(key, input.from, quantityProblem(input.value));
    return { text: input.value ?? '', amount, from: input.from };
  };
  const cpuRequest = quantity(ANNOTATION_CPU_REQUEST, defaults.cpuRequest);
  const memoryRequest = quantity(ANNOTATION_MEMORY_REQUEST, defaults.memoryRequest);
  const cpuLimit = quantity(ANNOTATION_CPU_LIMIT, defaults.cpuLimit);
  const memoryLimit = quantity(ANNOTATION_MEMORY_LIMIT, defaults.memoryLimit);
  if (cpuRequest.amount !== undefined && cpuLimit.amount !== undefined && cpuLimit.amount < cpuRequest.amount)
    problem(
      ANNOTATION_CPU_LIMIT,
      cpuLimit.from,
      `${cpuLimit.text} is below the CPU request ${cpuRequest.text}.`,
    );
  if (
    memoryRequest.amount !== undefined &&
    memoryLimit.amount !== undefined &&
    memoryLimit.amount < memoryRequest.amount
  )
    problem(
      ANNOTATION_MEMORY_LIMIT,
      memoryLimit.from,
      `${memoryLimit.text} is below the memory request ${memoryRequest.text}.`,
    );

  checkNameClashes(pod, problem);

  if (issues.length > 0) throw new AnnotationError(issues);
  return {
    action: 'inject',
    plan: Object.freeze({
      stsEndpoint: stsEndpoint!,
      flavor: flavor!,
      roleArn,
      audience: audience!,
      tokenExpirationSeconds: tokenExpirationSeconds!,
      durationSeconds: durationSeconds!,
      sessionPolicy,
      maxRefreshIntervalSeconds,
      s3Endpoint,
      skipContainers,
      listenPort: listenPort!,
      opsPort: opsPort!,
      resources: {
        requests: { cpu: cpuRequest.text, memory: memoryRequest.text },
        limits: { cpu: cpuLimit.text, memory: memoryLimit.text },
      },
    }),
  };
}
