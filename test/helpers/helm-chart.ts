// Runs the pinned helm against charts/sts-sidecar and turns renders into objects and golden
// text; the value sets, the object shapes read from renders and the label check. Shared by
// test/integration/helm-chart*.test.ts.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { WEBHOOK_OPTIONS } from '../../src/config/webhook-options.ts';
import { findGoTool } from './go-tools.ts';
import { parseManifests, type KubeObject } from './k8s-schema.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'sts-sidecar');
export const RENDER_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'render');

/** Release name, namespace and cluster version of every render (the chart needs >= 1.29). */
export const RELEASE = 'sts';
export const NAMESPACE = 'sts-system';
export const KUBE_VERSION = '1.31.0';

/** Every value set kept as a fixture: values-<case>.yaml, plus the chart's defaults. */
export const VALUE_SETS: { name: string; files: string[] }[] = [
  { name: 'default', files: [] },
  ...readdirSync(RENDER_FIXTURES)
    .filter((f) => /^values-.+\.yaml$/.test(f))
    .sort()
    .map((f) => ({ name: f.slice('values-'.length, -'.yaml'.length), files: [f] })),
];

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** One helm invocation; never throws on a non-zero exit, callers assert on it. */
export function runHelm(helm: string, args: readonly string[]): HelmResult {
  const r = spawnSync(helm, args, { encoding: 'utf8', env: helmEnv('/dev/null'), timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** No kubeconfig or repository config from the machine can leak into a render. */
export function helmEnv(kubeconfig: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: tmpdir(),
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(tmpdir(), 'sts-sidecar-helm', 'cache'),
    HELM_CONFIG_HOME: join(tmpdir(), 'sts-sidecar-helm', 'config'),
    HELM_DATA_HOME: join(tmpdir(), 'sts-sidecar-helm', 'data'),
  };
}

/**
 * `helm template --dry-run=server` against the API server in kubeconfig, so `lookup` sees that
 * server's objects as on an upgrade. Asynchronous: the fake API usually runs in this process.
 */
export async function renderAgainstApi(
  helm: string,
  kubeconfig: string,
  sets: readonly string[] = [],
): Promise<Render> {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION];
  args.push('--dry-run=server', ...valueArgs([], sets));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(helm, args, { env: helmEnv(kubeconfig), timeout: 60_000 }, (error, out, err) =>
      error
        ? reject(new Error(`helm template --dry-run=server failed: ${err}`, { cause: error }))
        : resolve(out),
    );
  });
  return { text: stdout, objects: parseManifests(stdout) };
}

/** `-f` for each values file (relative to test/fixtures/render) and `--set` for each pair. */
export function valueArgs(valuesFiles: readonly string[], sets: readonly string[] = []): string[] {
  return [
    ...valuesFiles.flatMap((f) => ['-f', join(RENDER_FIXTURES, f)]),
    ...sets.flatMap((s) => ['--set', s]),
  ];
}

export interface Render {
  text: string;
  objects: KubeObject[];
}

/** `helm template` of the chart; throws with helm's stderr when it fails. */
export function renderChart(
  helm: string,
  valuesFiles: readonly string[] = [],
  sets: readonly string[] = [],
  namespace = NAMESPACE,
): Render {
  const r = runHelm(helm, [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    namespace,
    '--kube-version',
    KUBE_VERSION,
    ...valueArgs(valuesFiles, sets),
  ]);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return { text: r.stdout, objects: parseManifests(r.stdout) };
}

/**
 * NOTES.txt as helm would print it after install. `helm install --dry-run` needs a reachable
 * cluster, so a copy of the chart gets one extra template that renders the notes with `tpl`
 * (same values, same Release) into a YAML string.
 */
export function renderNotes(
  helm: string,
  valuesFiles: readonly string[] = [],
  sets: readonly string[] = [],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'sts-sidecar-notes-'));
  try {
    const chart = join(dir, 'sts-sidecar');
    cpSync(CHART_DIR, chart, { recursive: true });
    cpSync(join(chart, 'templates', 'NOTES.txt'), join(chart, 'notes-under-test.txt'));
    writeFileSync(
      join(chart, 'templates', 'zz-notes-under-test.yaml'),
      'notes: {{ tpl (.Files.Get "notes-under-test.txt") . | toJson }}\n',
    );
    const r = runHelm(helm, [
      'template',
      RELEASE,
      chart,
      '--namespace',
      NAMESPACE,
      '--kube-version',
      KUBE_VERSION,
      '--show-only',
      'templates/zz-notes-under-test.yaml',
      ...valueArgs(valuesFiles, sets),
    ]);
    if (r.status !== 0) throw new Error(`rendering NOTES.txt failed: ${r.stderr}`);
    return (parseManifests(r.stdout)[0] as unknown as { notes: string }).notes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The object of this kind (and name, when given); fails loudly when absent or ambiguous. */
export function findOne(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** True when a base64 value is certificate or key material that node:crypto can parse. */
function isGeneratedPem(base64: string): boolean {
  const pem = Buffer.from(base64, 'base64').toString('utf8');
  try {
    if (pem.includes('PRIVATE KEY-----')) createPrivateKey(pem);
    else new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/** Placeholder that replaces generated certificate material in golden files. */
export const GENERATED = '<generated PEM, base64>';

/**
 * Makes a render comparable across runs: `helm template` has no cluster, so `lookup` finds no
 * Secret and genCA/genSignedCert produce new keys every time. Real PEM values of ca.crt,
 * tls.crt, tls.key and caBundle become {@link GENERATED}, and the expiry annotation written with
 * them becomes a placeholder. A user-supplied caBundle that is not a real certificate is kept.
 * The material itself is checked separately (the CA must sign the certificate).
 */
export function normalizeGenerated(text: string): string {
  return text
    .replace(
      /^(\s+(?:ca\.crt|tls\.crt|tls\.key|caBundle): )(\S+)$/gm,
      (line, prefix: string, value: string) => (isGeneratedPem(value) ? `${prefix}${GENERATED}` : line),
    )
    .replace(/^(\s+sts-sidecar\.io\/tls-not-after: )"\d+"$/gm, '$1"<render time + validityDays>"');
}

// The shapes read from renders, narrowed from the rendered YAML.
export interface EnvVar {
  name: string;
  value?: string;
}
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface PodSpec {
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  affinity?: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}
export interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
export interface Webhook {
  name: string;
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  admissionReviewVersions: string[];
  clientConfig: {
    caBundle?: string;
    service: { name: string; namespace: string; path: string; port: number };
  };
  rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
  objectSelector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
}

export const webhookOf = (objects: KubeObject[]): Webhook => {
  const config = findOne(objects, 'MutatingWebhookConfiguration') as KubeObject & { webhooks: Webhook[] };
  assert.equal(config.webhooks.length, 1, 'one webhook entry');
  return config.webhooks[0]!;
};
export const deploymentOf = (objects: KubeObject[]) => findOne(objects, 'Deployment') as Deployment;
export const containerOf = (objects: KubeObject[]): Container => {
  const containers = deploymentOf(objects).spec.template.spec.containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
};
export const envOf = (objects: KubeObject[]) =>
  new Map((containerOf(objects).env ?? []).map((e) => [e.name, e.value]));
export const envName = (key: string) => WEBHOOK_OPTIONS.find((o) => o.key === key)!.env;
export const defaultOf = (key: string) => WEBHOOK_OPTIONS.find((o) => o.key === key)!.defaultValue;
export const valuesOf = (file: string) =>
  parseYaml(readFileSync(join(RENDER_FIXTURES, file), 'utf8')) as Record<string, Record<string, unknown>>;

/** Every rendered object carries the recommended labels with the chart's values. */
export function assertStandardLabels(objects: KubeObject[]): void {
  const chart = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
    version: string;
    appVersion: string;
  };
  for (const o of objects) {
    const l = o.metadata.labels ?? {};
    const id = `${o.kind}/${o.metadata.name}`;
    assert.equal(l['app.kubernetes.io/name'], 'sts-sidecar', id);
    assert.equal(l['app.kubernetes.io/instance'], RELEASE, id);
    assert.equal(l['app.kubernetes.io/version'], chart.appVersion, id);
    assert.equal(l['app.kubernetes.io/managed-by'], 'Helm', id);
    assert.equal(l['app.kubernetes.io/part-of'], 'sts-sidecar', id);
    assert.ok(l['app.kubernetes.io/component'], `${id} has a component`);
    assert.equal(l['helm.sh/chart'], `sts-sidecar-${chart.version}`, id);
  }
}

/**
 * helm for the chart suites: the binary `.ci/go-tool.sh` built, and the reason the suites skip
 * (`false` to run) when there is none.
 */
export function chartSuiteHelm(): { helm: string; found: boolean; skip: string | false } {
  const tool = findGoTool('helm');
  return {
    helm: tool.path ?? 'helm',
    found: tool.path !== undefined,
    skip: tool.path === undefined ? tool.skipReason : false,
  };
}
