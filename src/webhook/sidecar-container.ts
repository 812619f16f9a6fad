import {
  DEFAULT_AUTH_TOKEN_FILE,
  DEFAULT_TOKEN_FILE,
  ENV_POD_NAME,
  ENV_POD_NAMESPACE,
  SIDECAR_OPTIONS,
  type SidecarOptionKey,
} from '../config/sidecar-options.ts';
import type { SidecarImage } from '../config/webhook-config.ts';
import { CHECK_ONLY_OPTIONS } from '../config/check-options.ts';
import {
  API_TOKEN_MOUNT_DIR,
  AUTH_MOUNT_DIR,
  AUTH_VOLUME_NAME,
  NO_API_TOKEN_VOLUME_NAME,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_OPS_PORT_NAME,
  TOKEN_MOUNT_DIR,
  TOKEN_VOLUME_NAME,
} from './injected-names.ts';
import type { InjectionPlan } from './injection-plan.ts';
import type { EnvVar } from './pod-types.ts';

/** The distroless `nonroot` user of our image (Dockerfile `USER 65532:65532`). */
export const SIDECAR_UID = 65_532;

const sidecarEnvName = (key: SidecarOptionKey): string => SIDECAR_OPTIONS.find((o) => o.key === key)!.env;
/** Read by `sts-sidecar check` alone (the sidecar ignores it), so a check run in this container compares the token's aud. */
const CHECK_AUDIENCE_ENV = CHECK_ONLY_OPTIONS.find((o) => o.key === 'audience')!.env;

/** The sidecar as a native sidecar: first init container, restartPolicy Always, gated by /readyz. */
export function sidecarContainer(plan: InjectionPlan, image: SidecarImage): Record<string, unknown> {
  const env: EnvVar[] = [
    { name: sidecarEnvName('stsEndpoint'), value: plan.stsEndpoint },
    { name: sidecarEnvName('flavor'), value: plan.flavor },
    ...(plan.roleArn === undefined ? [] : [{ name: sidecarEnvName('roleArn'), value: plan.roleArn }]),
    { name: sidecarEnvName('durationSeconds'), value: String(plan.durationSeconds) },
    ...(plan.sessionPolicy === undefined
      ? []
      : [{ name: sidecarEnvName('sessionPolicy'), value: plan.sessionPolicy }]),
    ...(plan.maxRefreshIntervalSeconds === undefined
      ? []
      : [
          {
            name: sidecarEnvName('maxRefreshIntervalSeconds'),
            value: String(plan.maxRefreshIntervalSeconds),
          },
        ]),
    { name: sidecarEnvName('tokenFile'), value: DEFAULT_TOKEN_FILE },
    // The audience projected into the token volume: what `kubectl exec … check` should find in `aud`.
    { name: CHECK_AUDIENCE_ENV, value: plan.audience },
    { name: sidecarEnvName('authTokenFile'), value: DEFAULT_AUTH_TOKEN_FILE },
    { name: sidecarEnvName('listenPort'), value: String(plan.listenPort) },
    { name: sidecarEnvName('opsPort'), value: String(plan.opsPort) },
    // The session name is derived from these (sidecar-config.ts deriveSessionName).
    { name: ENV_POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: ENV_POD_NAMESPACE, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  return {
    name: SIDECAR_CONTAINER_NAME,
    image: image.image,
    imagePullPolicy: image.imagePullPolicy,
    args: ['sidecar'],
    // Native sidecar (KEP-753): later init containers and the app start only after the
    // startupProbe passed, i.e. once credentials are held; it stops after the app containers.
    restartPolicy: 'Always',
    env,
    // Named so a PodMonitor can select it (the Helm chart's podMonitor does); at most 15 chars.
    ports: [{ name: SIDECAR_OPS_PORT_NAME, containerPort: plan.opsPort, protocol: 'TCP' }],
    volumeMounts: [
      { name: TOKEN_VOLUME_NAME, mountPath: TOKEN_MOUNT_DIR, readOnly: true },
      { name: AUTH_VOLUME_NAME, mountPath: AUTH_MOUNT_DIR },
      // Holds nothing: it only keeps the pod's Kubernetes API token out (injected-names.ts).
      { name: NO_API_TOKEN_VOLUME_NAME, mountPath: API_TOKEN_MOUNT_DIR, readOnly: true },
    ],
    // /readyz passes only with servable credentials. 1 s period so the app is not held back
    // longer than needed; 300 tries = 5 min of STS trouble before the kubelet restarts it.
    startupProbe: {
      httpGet: { path: '/readyz', port: plan.opsPort },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 300,
    },
    // Liveness is the event loop only, never STS (eks-pod-identity-agent #26).
    livenessProbe: {
      httpGet: { path: '/healthz', port: plan.opsPort },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    resources: {
      requests: { ...plan.resources.requests },
      limits: { ...plan.resources.limits },
    },
    // Pod Security Standards "restricted".
    securityContext: {
      runAsNonRoot: true,
      runAsUser: SIDECAR_UID,
      runAsGroup: SIDECAR_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}
