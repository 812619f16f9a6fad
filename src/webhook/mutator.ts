import { AnnotationError, isSidecarError } from '../shared/errors.ts';
import type { ServiceAccountRecord } from '../kube/kube-client.ts';
import type { InjectionDefaults, SidecarImage } from '../config/webhook-config.ts';
import { buildInjectionPlan, wantsInjection } from './injection-plan.ts';
import { buildPodPatch, type JsonPatchOp } from './pod-patch.ts';
import type { Pod } from './pod-types.ts';
import type { InjectionResult } from './webhook-metrics.ts';

export interface MutatorOptions {
  defaults: InjectionDefaults;
  sidecar: SidecarImage;
  lookupServiceAccount(namespace: string, name: string): Promise<ServiceAccountRecord | undefined>;
}

/** What /mutate answers for one pod. */
export interface MutationOutcome {
  readonly result: InjectionResult;
  /** Present when result is `injected`. */
  readonly patch?: JsonPatchOp[];
  readonly warnings: string[];
  /** Present when result is `rejected`: the message kubectl shows. */
  readonly denial?: string;
}

/**
 * Pod → outcome. The ServiceAccount is read only for pods that opted in and are not injected
 * yet. A pod whose ServiceAccount does not exist still gets the pod annotations and defaults
 * (the API server rejects the pod itself later if the SA is really missing).
 */
export async function mutatePod(
  pod: Pod,
  namespace: string,
  options: MutatorOptions,
): Promise<MutationOutcome> {
  const early = wantsInjection(pod);
  if (early?.action === 'skip')
    return { result: early.reason === 'already-injected' ? 'already_injected' : 'skipped', warnings: [] };
  try {
    const sa = await options.lookupServiceAccount(namespace, pod.spec?.serviceAccountName ?? 'default');
    const planned = buildInjectionPlan(pod, sa?.annotations, options.defaults);
    if (planned.action === 'skip') return { result: 'skipped', warnings: [] };
    const { ops, warnings } = buildPodPatch(pod, planned.plan, options.sidecar);
    return { result: 'injected', patch: ops, warnings };
  } catch (error) {
    if (error instanceof AnnotationError || (isSidecarError(error) && error.code === 'KUBE_API_UNAVAILABLE'))
      return { result: 'rejected', warnings: [], denial: error.message };
    throw error;
  }
}
