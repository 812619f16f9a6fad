// Runs kubectl kustomize over deploy/ and reads the renders: selectors, pod templates, and the
// example app as the webhook sees it. Shared by test/integration/kustomize*.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEBHOOK_OPTIONS } from '../../src/config/webhook-options.ts';
import type { InjectionDefaults } from '../../src/config/webhook-config.ts';
import { buildInjectionPlan } from '../../src/webhook/injection-plan.ts';
import type { Pod } from '../../src/webhook/pod-types.ts';
import { parseManifests, type KubeObject } from './k8s-schema.ts';

/** kubectl to render with: `$KUBECTL`, else the one on PATH. */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** `kubectl version --client` as one line, or why kubectl cannot run (a skip reason). */
export function kubectlVersion(): { version: string } | { reason: string } {
  try {
    const out = execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const v = JSON.parse(out) as { clientVersion?: { gitVersion?: string }; kustomizeVersion?: string };
    return {
      version: `kubectl ${v.clientVersion?.gitVersion ?? '?'}, kustomize ${v.kustomizeVersion ?? '?'}`,
    };
  } catch (error) {
    return {
      reason: `kubectl not runnable (${(error as Error).message.split('\n')[0]}): install kubectl or set KUBECTL`,
    };
  }
}

/** `kubectl kustomize <dir>`: the rendered multi-document YAML stream. */
export function kustomize(dir: string): string {
  return execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every directory under `root` holding a kustomization.yaml, relative to `root`, sorted. */
export function findKustomizations(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry === 'kustomization.yaml') found.push(relative(root, dir));
    }
  };
  walk(root);
  return found.sort();
}

/** A Kubernetes label selector (matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/**
 * Whether `selector` selects an object with `labels`, by the API server's rules (every term must
 * hold; an empty selector selects everything). Lets a test state what a selector means instead
 * of how it is spelled.
 */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(labels[e.key]!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

export const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));

const renders = new Map<string, string>();
/** The render of deploy/<dir>, once per run. */
export function render(dir: string): string {
  let text = renders.get(dir);
  if (text === undefined) {
    text = kustomize(join(DEPLOY, dir));
    renders.set(dir, text);
  }
  return text;
}
export const objectsOf = (dir: string): KubeObject[] => parseManifests(render(dir));

/** The one object of a kind (and name, when given); fails when there is none or several. */
export function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: { httpGet: { path: string; port: number | string } };
  livenessProbe?: { httpGet: { path: string; port: number | string } };
  securityContext?: Record<string, unknown>;
  [field: string]: unknown;
}
export interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    securityContext?: Record<string, unknown>;
    initContainers?: Container[];
    containers: Container[];
    volumes?: { name: string; secret?: { secretName: string }; [field: string]: unknown }[];
  };
}
export const template = (deployment: KubeObject): PodTemplate =>
  (deployment.spec as { template: PodTemplate }).template;

/** A probe's or Service's port, by number or by the container port's name. */
export function resolvePort(container: Container, port: number | string): number | undefined {
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

export const optionDefault = (key: string): string | undefined =>
  WEBHOOK_OPTIONS.find((o) => o.key === key)?.defaultValue;
export const WEBHOOK_ENV_NAMES = new Set(WEBHOOK_OPTIONS.map((o) => o.env));

/** Webhook defaults with no store at all: a plan must then come from the example's annotations alone. */
export const NO_STORE_DEFAULTS: InjectionDefaults = {
  stsEndpoint: undefined,
  flavor: undefined,
  roleArn: undefined,
  audience: undefined,
  tokenExpirationSeconds: optionDefault('tokenExpirationSeconds')!,
  durationSeconds: optionDefault('durationSeconds')!,
  s3Endpoint: undefined,
  cpuRequest: optionDefault('sidecarCpuRequest')!,
  memoryRequest: optionDefault('sidecarMemoryRequest')!,
  cpuLimit: optionDefault('sidecarCpuLimit')!,
  memoryLimit: optionDefault('sidecarMemoryLimit')!,
};

/** The example app as the webhook would see it: its pod and its ServiceAccount's annotations. */
export function appIdentity(dir: string): {
  pod: Pod;
  sa: KubeObject;
  namespace: string;
  template: PodTemplate;
} {
  const objects = objectsOf(dir);
  const deployment = one(objects, 'Deployment', 's3-app');
  const t = template(deployment);
  const namespace = deployment.metadata.namespace!;
  const sa = one(objects, 'ServiceAccount', t.spec.serviceAccountName);
  assert.equal(sa.metadata.namespace, namespace);
  const pod = { metadata: { ...t.metadata, namespace }, spec: t.spec } as unknown as Pod;
  return { pod, sa, namespace, template: t };
}

/** Runs the webhook's own plan over the example; throws the webhook's admission message if it would reject the pod. */
export function planFor(dir: string, defaults: InjectionDefaults = NO_STORE_DEFAULTS) {
  const { pod, sa } = appIdentity(dir);
  const result = buildInjectionPlan(pod, sa.metadata.annotations, defaults);
  assert.equal(result.action, 'inject', `${dir}: the webhook would not inject (${JSON.stringify(result)})`);
  if (result.action !== 'inject') throw new Error('unreachable');
  return result.plan;
}

export const readJson = (path: string): unknown => JSON.parse(readFileSync(join(DEPLOY, path), 'utf8'));
/** KEY=value lines of an env file (comments and blanks skipped). */
export function envFile(path: string): Map<string, string> {
  const lines = readFileSync(join(DEPLOY, path), 'utf8').split('\n');
  return new Map(
    lines
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}
