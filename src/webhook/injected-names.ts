// The names and paths of everything the webhook adds to a pod, and the check that the pod
// leaves them free. The plan (injection-plan.ts) runs the check; the patch and the sidecar
// container (pod-patch.ts, sidecar-container.ts) use the names.
import { DEFAULT_AUTH_TOKEN_FILE, DEFAULT_TOKEN_FILE } from '../config/sidecar-options.ts';
import { ANNOTATION_STATUS, LABEL_INJECT } from './annotations.ts';
import type { Pod } from './pod-types.ts';

/** The injected sidecar container. */
export const SIDECAR_CONTAINER_NAME = 'sts-sidecar';
/** Name of the sidecar's ops port (/metrics, /readyz); PodMonitors select it by this name. */
export const SIDECAR_OPS_PORT_NAME = 'sts-ops';
export const TOKEN_VOLUME_NAME = 'sts-sidecar-token';
export const AUTH_VOLUME_NAME = 'sts-sidecar-auth';
/**
 * An empty, read-only volume the sidecar mounts where the pod's Kubernetes API token would go.
 * After any webhook mutation the API server re-runs its ServiceAccount admission plugin, which
 * mounts the pod's API token (`kube-api-access-*`) into every container that has no mount at
 * {@link API_TOKEN_MOUNT_DIR}, our sidecar included; the sidecar never calls the API, so this
 * mount keeps that credential out of it (least privilege). Plugin behaviour: kubernetes v1.37.2
 * plugin/pkg/admission/serviceaccount/admission.go, `mountServiceAccountToken`.
 */
export const NO_API_TOKEN_VOLUME_NAME = 'sts-sidecar-no-api-token';
export const API_TOKEN_MOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Directory of the auth token, mounted into the sidecar (rw) and the apps (ro). */
export const AUTH_MOUNT_DIR = DEFAULT_AUTH_TOKEN_FILE.slice(0, DEFAULT_AUTH_TOKEN_FILE.lastIndexOf('/'));
/** Directory of the projected service-account token, mounted into the sidecar only. */
export const TOKEN_MOUNT_DIR = DEFAULT_TOKEN_FILE.slice(0, DEFAULT_TOKEN_FILE.lastIndexOf('/'));
/** File name of the token inside {@link TOKEN_MOUNT_DIR} (the projected volume's `path`). */
export const TOKEN_FILE_NAME = DEFAULT_TOKEN_FILE.slice(TOKEN_MOUNT_DIR.length + 1);

/** The names we add must be free; otherwise the API server would reject our patch with a vaguer message. */
export function checkNameClashes(pod: Pod, problem: (key: string, from: string, text: string) => void): void {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (containers.some((c) => c.name === SIDECAR_CONTAINER_NAME))
    problem(
      LABEL_INJECT,
      'pod',
      `the pod already has a container named "${SIDECAR_CONTAINER_NAME}" but no ${ANNOTATION_STATUS} annotation; remove the container or the label.`,
    );
  for (const c of containers)
    if (c.volumeMounts?.some((m) => m.mountPath === AUTH_MOUNT_DIR))
      problem(
        LABEL_INJECT,
        'pod',
        `container "${c.name}" already mounts something at ${AUTH_MOUNT_DIR}, where the auth token goes; move that mount.`,
      );
  for (const v of pod.spec?.volumes ?? [])
    if (v.name === TOKEN_VOLUME_NAME || v.name === AUTH_VOLUME_NAME || v.name === NO_API_TOKEN_VOLUME_NAME)
      problem(
        LABEL_INJECT,
        'pod',
        `the pod already has a volume named "${v.name}"; rename it or drop the label.`,
      );
}
