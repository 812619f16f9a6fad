import { DEFAULT_AUTH_TOKEN_FILE } from '../config/sidecar-options.ts';
import type { SidecarImage } from '../config/webhook-config.ts';
import { ANNOTATION_STATUS, STATUS_INJECTED } from './annotations.ts';
import {
  AUTH_MOUNT_DIR,
  AUTH_VOLUME_NAME,
  NO_API_TOKEN_VOLUME_NAME,
  TOKEN_FILE_NAME,
  TOKEN_VOLUME_NAME,
} from './injected-names.ts';
import type { InjectionPlan } from './injection-plan.ts';
import type { Container, EnvVar, Pod } from './pod-types.ts';
import { sidecarContainer } from './sidecar-container.ts';

/** One RFC 6902 operation. We only ever emit `add`. */
export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** Env names the SDKs read (docs/design/upstream-facts.md, "The ECS container-credentials protocol"). */
export const ENV_FULL_URI = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
export const ENV_AUTH_TOKEN_FILE = 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE';
export const ENV_S3_ENDPOINT = 'AWS_ENDPOINT_URL_S3';
/**
 * Never injected: SDKs would prefer them over the container endpoint (Java v2 and older JS take
 * the TOKEN env over the file; minio-go takes AWS_WEB_IDENTITY_TOKEN_FILE over both and then
 * calls AWS STS). When a user sets them, the admission response carries a warning.
 */
export const SHADOWING_ENV = [
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ACCESS_KEY_ID',
] as const;

/** RFC 6901: `~` → `~0`, then `/` → `~1` (annotation keys hold a `/`). */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The env an app container gets, before removing names it already sets. */
export function appEnv(plan: InjectionPlan): EnvVar[] {
  return [
    { name: ENV_FULL_URI, value: `http://127.0.0.1:${plan.listenPort}/v1/credentials` },
    { name: ENV_AUTH_TOKEN_FILE, value: DEFAULT_AUTH_TOKEN_FILE },
    ...(plan.s3Endpoint === undefined ? [] : [{ name: ENV_S3_ENDPOINT, value: plan.s3Endpoint }]),
  ];
}

/** A JSON patch plus warnings for the user (admission `warnings`). */
export interface PodPatch {
  readonly ops: JsonPatchOp[];
  readonly warnings: string[];
}

/**
 * The RFC 6902 patch that injects the plan. Rules (the EKS webhook's #208 and vault-k8s' patch.go
 * taught them):
 * - only `add`: arrays get `/-` appends (or one `/0` insert for the sidecar); an absent array or
 *   object is added whole, an existing one is never replaced, so fields we do not know survive;
 * - user env is never overwritten: names the container already sets are left out;
 * - the status annotation makes a second pass a no-op (see injection-plan.ts wantsInjection).
 */
export function buildPodPatch(pod: Pod, plan: InjectionPlan, image: SidecarImage): PodPatch {
  const ops: JsonPatchOp[] = [];
  const warnings: string[] = [];
  const add = (path: string, value: unknown): void => {
    ops.push({ op: 'add', path, value });
  };
  const appendAll = (path: string, existing: unknown[] | undefined, items: unknown[]): void => {
    if (items.length === 0) return;
    if (existing === undefined) add(path, items);
    else for (const item of items) add(`${path}/-`, item);
  };

  if (pod.metadata?.annotations === undefined)
    add('/metadata/annotations', { [ANNOTATION_STATUS]: STATUS_INJECTED });
  else add(`/metadata/annotations/${escapePointer(ANNOTATION_STATUS)}`, STATUS_INJECTED);

  if (pod.spec?.securityContext === undefined) add('/spec/securityContext', { fsGroup: image.fsGroup });
  else if (pod.spec.securityContext.fsGroup === undefined)
    add('/spec/securityContext/fsGroup', image.fsGroup);

  appendAll('/spec/volumes', pod.spec?.volumes, [
    {
      name: TOKEN_VOLUME_NAME,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: plan.audience,
              expirationSeconds: plan.tokenExpirationSeconds,
              path: TOKEN_FILE_NAME,
            },
          },
        ],
      },
    },
    // Memory: the auth token never touches the node's disk.
    { name: AUTH_VOLUME_NAME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    // Empty and never written (mounted read-only): the smallest size limit the API accepts.
    { name: NO_API_TOKEN_VOLUME_NAME, emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } },
  ]);

  const sidecar = sidecarContainer(plan, image);
  const initContainers = pod.spec?.initContainers;
  if (initContainers === undefined) add('/spec/initContainers', [sidecar]);
  else add('/spec/initContainers/0', sidecar);

  const wire = (container: Container, path: string): void => {
    if (plan.skipContainers.has(container.name)) return;
    const present = new Set((container.env ?? []).map((e) => e.name));
    appendAll(
      `${path}/env`,
      container.env,
      appEnv(plan).filter((e) => !present.has(e.name)),
    );
    appendAll(`${path}/volumeMounts`, container.volumeMounts, [
      { name: AUTH_VOLUME_NAME, mountPath: AUTH_MOUNT_DIR, readOnly: true },
    ]);
    const shadowing = SHADOWING_ENV.filter((n) => present.has(n));
    if (shadowing.length > 0)
      warnings.push(
        `sts-sidecar: container "${container.name}" sets ${shadowing.join(', ')}; AWS SDKs may use it instead of the sidecar's credentials.`,
      );
  };
  // Our sidecar now sits at index 0, so an original init container i is at i + 1.
  (initContainers ?? []).forEach((c, i) => wire(c, `/spec/initContainers/${i + 1}`));
  (pod.spec?.containers ?? []).forEach((c, i) => wire(c, `/spec/containers/${i}`));
  return { ops, warnings };
}
