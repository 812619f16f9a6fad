import { parseAllDocuments } from 'yaml';

/** One rendered Kubernetes object, as helm or kustomize print it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/**
 * Where each API group's typed models live: the Kubernetes OpenAPI schemas (kubernetes-models)
 * and the CRDs our manifests use (cert-manager, prometheus-operator), each with a `validate()`
 * generated from the published schema. Grafana dashboards travel as ConfigMaps.
 */
function modelModule(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if (group === 'cert-manager.io') return `@kubernetes-models/cert-manager/${group}/${version}/${kind}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  if (group === '') return `kubernetes-models/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

/** Parses a multi-document YAML stream (helm template / kubectl kustomize output); empty documents are dropped. */
export function parseManifests(yamlText: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJSON();
    if (value === null || value === undefined) continue;
    objects.push(value as KubeObject);
  }
  return objects;
}

/**
 * Validates one object against its kind's schema; throws an Error naming the object and the
 * first schema violations. An apiVersion/kind with no model is an error too, so a typo in a
 * template cannot slip through as "unknown, skipped".
 */
export async function validateObject(object: KubeObject): Promise<void> {
  const id = `${object.kind ?? '?'}/${object.metadata?.name ?? '?'} (${object.apiVersion ?? '?'})`;
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string')
    throw new Error(`${id}: apiVersion and kind are required`);
  let Model: new (data: unknown) => { validate(): void };
  try {
    const mod = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, unknown>;
    Model = mod[object.kind] as typeof Model;
  } catch (error) {
    throw new Error(`${id}: no schema for this apiVersion/kind (typo, or a removed API version?)`, {
      cause: error,
    });
  }
  try {
    new Model(object).validate();
  } catch (error) {
    const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors
      ?.slice(0, 5)
      .map((e) => `${e.instancePath ?? ''} ${e.message ?? ''}`.trim())
      .join('; ');
    throw new Error(`${id}: schema validation failed: ${details ?? (error as Error).message}`, {
      cause: error,
    });
  }
}

/** Validates every object of a rendered stream; see {@link validateObject}. */
export async function validateManifests(objects: KubeObject[]): Promise<void> {
  for (const object of objects) await validateObject(object);
}
