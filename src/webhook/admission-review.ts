// The admission.k8s.io/v1 AdmissionReview envelope, apart from the HTTPS server that carries it:
// what the API server sends, how much of it is checked before the pod inside is looked at, and
// the envelope of the answer.
import { SidecarError } from '../shared/errors.ts';
import type { Pod } from './pod-types.ts';

/** The only version served: the webhook configuration sets admissionReviewVersions: [v1]. */
export const API_VERSION = 'admission.k8s.io/v1';

/** The parts of admission.k8s.io/v1 AdmissionReview.request we use. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  object?: Pod;
}

/** An AdmissionReview answer around `response`. */
export const review = (response: Record<string, unknown>) => ({
  apiVersion: API_VERSION,
  kind: 'AdmissionReview',
  response,
});

function invalid(message: string): SidecarError {
  return new SidecarError('ADMISSION_REVIEW_INVALID', message);
}

/** Validates the envelope only; the pod inside is untrusted and read defensively later. */
export function parseReview(body: Buffer): AdmissionRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('body is not JSON; expected an admission.k8s.io/v1 AdmissionReview');
  }
  const r = parsed as { apiVersion?: unknown; kind?: unknown; request?: { uid?: unknown; object?: unknown } };
  if (typeof r !== 'object' || r === null || r.kind !== 'AdmissionReview')
    throw invalid('body is not an AdmissionReview (kind must be "AdmissionReview")');
  if (r.apiVersion !== API_VERSION)
    throw invalid(
      `apiVersion must be ${API_VERSION}; set admissionReviewVersions: ["v1"] in the webhook configuration`,
    );
  if (
    typeof r.request !== 'object' ||
    r.request === null ||
    typeof r.request.uid !== 'string' ||
    r.request.uid === ''
  )
    throw invalid('AdmissionReview.request.uid is missing');
  const object = r.request.object;
  if (object !== undefined && (typeof object !== 'object' || object === null || Array.isArray(object)))
    throw invalid('AdmissionReview.request.object must be an object');
  if (object !== undefined && !isPodShaped(object as Pod))
    throw invalid(
      'AdmissionReview.request.object is not a Pod (spec.containers must be a list of named containers)',
    );
  return r.request as AdmissionRequest;
}

/** Enough shape for the patch builder to index safely; the API server validated the rest. */
function isPodShaped(pod: Pod): boolean {
  const spec = pod.spec as Record<string, unknown> | undefined;
  if (typeof spec !== 'object' || spec === null) return false;
  const named = (list: unknown) =>
    list === undefined ||
    (Array.isArray(list) &&
      list.every(
        (c) =>
          typeof c === 'object' &&
          c !== null &&
          typeof (c as { name?: unknown }).name === 'string' &&
          ['env', 'volumeMounts'].every(
            (k) =>
              (c as Record<string, unknown>)[k] === undefined ||
              Array.isArray((c as Record<string, unknown>)[k]),
          ),
      ));
  const meta = pod.metadata as Record<string, unknown> | undefined;
  const stringMap = (m: unknown) =>
    m === undefined || (typeof m === 'object' && m !== null && !Array.isArray(m));
  return (
    Array.isArray(spec.containers) &&
    named(spec.containers) &&
    named(spec.initContainers) &&
    (spec.volumes === undefined || Array.isArray(spec.volumes)) &&
    (meta === undefined ||
      (typeof meta === 'object' && stringMap(meta.labels) && stringMap(meta.annotations)))
  );
}
