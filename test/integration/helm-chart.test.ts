// charts/sts-sidecar: lint, schema, golden renders and the facts the webhook depends on.
// Golden renders are test/fixtures/render/<case>.yaml from values-<case>.yaml (default: no
// file). Regenerate after a deliberate chart change with:
//   UPDATE_GOLDEN=1 node --test test/integration/helm-chart.test.ts
// and review the diff. Generated TLS material is normalised in the golden files and checked
// here instead (the CA must really sign the certificate).
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { WEBHOOK_OPTIONS } from '../../src/config/webhook-options.ts';
import { LABEL_INJECT } from '../../src/webhook/annotations.ts';
import { SIDECAR_OPS_PORT_NAME } from '../../src/webhook/injection-plan.ts';
import { FakeSecretApi } from '../fakes/fake-secret-api.ts';
import { findGoTool } from '../helpers/go-tools.ts';
import {
  CHART_DIR,
  findOne,
  KUBE_VERSION,
  NAMESPACE,
  normalizeGenerated,
  RELEASE,
  renderAgainstApi,
  renderChart,
  renderNotes,
  RENDER_FIXTURES,
  runHelm,
  valueArgs,
} from '../helpers/helm-chart.ts';
import { validateManifests, type KubeObject } from '../helpers/k8s-schema.ts';

const tool = findGoTool('helm');
const skip = tool.path === undefined ? tool.skipReason : false;
const helm = tool.path ?? 'helm';
const update = process.env.UPDATE_GOLDEN === '1';

/** Every value set kept as a fixture: values-<case>.yaml, plus the chart's defaults. */
const cases: { name: string; files: string[] }[] = [
  { name: 'default', files: [] },
  ...readdirSync(RENDER_FIXTURES)
    .filter((f) => /^values-.+\.yaml$/.test(f))
    .sort()
    .map((f) => ({ name: f.slice('values-'.length, -'.yaml'.length), files: [f] })),
];

// The shapes read below, narrowed from the rendered YAML.
interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
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
interface PodSpec {
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  affinity?: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}
interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Webhook {
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

const webhookOf = (objects: KubeObject[]): Webhook => {
  const config = findOne(objects, 'MutatingWebhookConfiguration') as KubeObject & { webhooks: Webhook[] };
  assert.equal(config.webhooks.length, 1, 'one webhook entry');
  return config.webhooks[0]!;
};
const deploymentOf = (objects: KubeObject[]) => findOne(objects, 'Deployment') as Deployment;
const containerOf = (objects: KubeObject[]): Container => {
  const containers = deploymentOf(objects).spec.template.spec.containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
};
const envOf = (objects: KubeObject[]) =>
  new Map((containerOf(objects).env ?? []).map((e) => [e.name, e.value]));
const envName = (key: string) => WEBHOOK_OPTIONS.find((o) => o.key === key)!.env;
const defaultOf = (key: string) => WEBHOOK_OPTIONS.find((o) => o.key === key)!.defaultValue;
const valuesOf = (file: string) =>
  parseYaml(readFileSync(join(RENDER_FIXTURES, file), 'utf8')) as Record<string, Record<string, unknown>>;

describe('helm chart', { skip }, () => {
  test(`helm lint --strict: defaults and every value set (${tool.path ? 'helm found' : 'no helm'})`, () => {
    for (const c of cases) {
      const r = runHelm(helm, [
        'lint',
        '--strict',
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        ...valueArgs(c.files),
      ]);
      assert.equal(r.status, 0, `${c.name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const c of cases) {
    test(`golden render: ${c.name}`, async () => {
      const { text, objects } = renderChart(helm, c.files);
      await validateManifests(objects);
      const golden = join(RENDER_FIXTURES, `${c.name}.yaml`);
      const normalized = normalizeGenerated(text);
      if (update) writeFileSync(golden, normalized);
      assert.ok(existsSync(golden), `${golden} is missing (UPDATE_GOLDEN=1 to write it)`);
      assert.equal(
        normalized,
        readFileSync(golden, 'utf8'),
        `${c.name}.yaml differs (UPDATE_GOLDEN=1 to rewrite)`,
      );
      assertStandardLabels(objects);
    });
  }

  test('the expected value sets exist', () => {
    for (const name of ['default', 'cert-manager', 'self-signed', 'monitoring', 'secret'])
      assert.ok(
        cases.some((c) => c.name === name),
        name,
      );
  });

  const rejected: { name: string; set: string; field: RegExp }[] = [
    { name: 'unknown flavor', set: 'sts.flavor=s3', field: /\/sts\/flavor/ },
    {
      name: 'unknown failurePolicy',
      set: 'webhook.failurePolicy=Sometimes',
      field: /\/webhook\/failurePolicy/,
    },
    { name: 'typo key', set: 'webhook.replica=3', field: /\/webhook.*'replica' not allowed/ },
    { name: 'unknown TLS mode', set: 'tls.mode=vault', field: /\/tls\/mode/ },
    { name: 'secret mode without a Secret', set: 'tls.mode=secret', field: /\/tls\/secret\/name/ },
    { name: 'monitoring typo', set: 'metrics.podMonitor.enable=true', field: /'enable' not allowed/ },
    { name: 'duration below STS minimum', set: 'sts.durationSeconds=60', field: /\/sts\/durationSeconds/ },
    {
      name: 'egress policy without API server CIDRs',
      set: 'networkPolicy.egress.enabled=true',
      field: /\/networkPolicy\/egress\/apiServerCidrs/,
    },
  ];
  for (const r of rejected) {
    test(`schema rejects: ${r.name} (${r.set})`, () => {
      const res = runHelm(helm, [
        'template',
        RELEASE,
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        '--set',
        r.set,
      ]);
      assert.equal(res.status, 1, `helm accepted ${r.set}`);
      assert.match(res.stderr, /values don't meet the specifications of the schema/);
      assert.match(res.stderr, r.field);
    });
  }

  test('kubeVersion: clusters without native sidecars are refused', () => {
    const res = runHelm(helm, ['template', RELEASE, CHART_DIR, '--kube-version', '1.28.9']);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /requires kubeVersion: >=1\.29/);
  });

  test('webhook configuration: Ignore by default, CREATE pods only, opt-in label, system namespaces excluded', () => {
    const objects = renderChart(helm).objects;
    const wh = webhookOf(objects);
    assert.equal(wh.failurePolicy, 'Ignore');
    assert.equal(
      webhookOf(renderChart(helm, [], ['webhook.failurePolicy=Fail']).objects).failurePolicy,
      'Fail',
    );
    assert.deepEqual(wh.rules, [
      {
        operations: ['CREATE'],
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ]);
    assert.deepEqual(wh.admissionReviewVersions, ['v1']);
    assert.equal(wh.sideEffects, 'None');
    assert.deepEqual(wh.objectSelector, { matchLabels: { [LABEL_INJECT]: 'true' } });
    assert.deepEqual(wh.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE] },
    ]);
    // The release namespace follows the release, and extra exclusions are added, not substituted.
    const other = webhookOf(renderChart(helm, ['values-cert-manager.yaml'], [], 'platform').objects);
    assert.deepEqual(other.namespaceSelector.matchExpressions[0]!.values, [
      'kube-system',
      'platform',
      'monitoring',
      'cert-manager',
    ]);
    assert.equal(other.timeoutSeconds, 5);
    // The API server calls the chart's Service on the path the admission server answers.
    const service = findOne(objects, 'Service') as KubeObject & {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    assert.deepEqual(wh.clientConfig.service, {
      name: service.metadata.name,
      namespace: NAMESPACE,
      path: '/mutate',
      port: 443,
    });
    const ports = containerOf(objects).ports ?? [];
    const containerPort = (name: string) => ports.find((p) => p.name === name)?.containerPort;
    const servicePort = (name: string) => service.spec.ports.find((p) => p.name === name);
    assert.equal(servicePort('https')?.port, 443);
    assert.equal(containerPort(servicePort('https')!.targetPort), Number(defaultOf('listenPort')));
    assert.equal(servicePort('metrics')?.port, 9188);
    assert.equal(containerPort(servicePort('metrics')!.targetPort), Number(defaultOf('opsPort')));
  });

  test('deployment: 2 replicas spread by hostname, PDB minAvailable 1 over the same pods', () => {
    const objects = renderChart(helm).objects;
    const deployment = deploymentOf(objects);
    assert.equal(deployment.spec.replicas, 2);
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[k], v);
    const pdb = findOne(objects, 'PodDisruptionBudget') as KubeObject & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const anti = (
      deployment.spec.template.spec.affinity as {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: {
            podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } };
          }[];
        };
      }
    ).podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(anti[0]?.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(
      anti[0]?.podAffinityTerm.labelSelector.matchLabels,
      deployment.spec.selector.matchLabels,
    );
    // One replica: a PDB would block every drain, so there is none.
    const single = renderChart(helm, ['values-secret.yaml']).objects;
    assert.equal(deploymentOf(single).spec.replicas, 1);
    assert.equal(single.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
  });

  test('webhook container: args, probes on the ops port, restricted security context, TLS at the default paths', () => {
    const objects = renderChart(helm).objects;
    const container = containerOf(objects);
    const spec = deploymentOf(objects).spec.template.spec;
    assert.deepEqual(container.args, ['webhook']);
    const metricsPort = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
    assert.equal(metricsPort, 9188);
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'metrics' });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'metrics' });
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    // The files the webhook reads by default are where the Secret is mounted.
    const mount = container.volumeMounts?.find((m) => m.name === 'tls');
    const volume = spec.volumes.find((v) => v.name === 'tls');
    assert.ok(mount?.readOnly && volume?.secret);
    const mounted = (volume.secret.items ?? []).map((i) => `${mount.mountPath}/${i.path}`);
    assert.deepEqual(mounted, [defaultOf('tlsCertFile'), defaultOf('tlsKeyFile')]);
    const env = envOf(objects);
    assert.equal(env.get(envName('tlsCertFile')), defaultOf('tlsCertFile'));
    assert.equal(env.get(envName('tlsKeyFile')), defaultOf('tlsKeyFile'));
    assert.equal(volume.secret.secretName, `${RELEASE}-sts-sidecar-webhook-tls`);
  });

  test('webhook env: every STS_SIDECAR_WEBHOOK_* name is a real option, and values reach it', () => {
    const known = new Set(WEBHOOK_OPTIONS.map((o) => o.env));
    for (const c of cases) {
      const env = envOf(renderChart(helm, c.files).objects);
      for (const name of env.keys()) {
        assert.match(name, /^STS_SIDECAR_WEBHOOK_/, `${c.name}: only webhook options are set`);
        assert.ok(known.has(name), `${c.name}: ${name} is not in src/config/webhook-options.ts`);
      }
    }
    const values = valuesOf('values-cert-manager.yaml');
    const sts = values.sts as Record<string, string | number>;
    const env = envOf(renderChart(helm, ['values-cert-manager.yaml']).objects);
    const expected: [string, string][] = [
      ['sidecarImage', `registry.example/sts-sidecar@${(values.image as { digest: string }).digest}`],
      ['imagePullPolicy', 'Always'],
      ['stsEndpoint', String(sts.endpoint)],
      ['flavor', String(sts.flavor)],
      ['roleArn', String(sts.roleArn)],
      ['audience', String(sts.audience)],
      ['s3Endpoint', String(sts.s3Endpoint)],
      ['durationSeconds', String(sts.durationSeconds)],
      ['tokenExpirationSeconds', String(sts.tokenExpirationSeconds)],
      ['logLevel', 'debug'],
    ];
    for (const [key, value] of expected) assert.equal(env.get(envName(key)), value, key);
    // Defaults: the image follows appVersion, resources and fsGroup come from values.yaml.
    const defaults = envOf(renderChart(helm).objects);
    assert.equal(defaults.get(envName('sidecarImage')), 'registry.example/sts-sidecar:0.1.0');
    assert.equal(defaults.has(envName('stsEndpoint')), false, 'an unset default is not rendered as ""');
    const sidecar = envOf(renderChart(helm, ['values-self-signed.yaml']).objects);
    for (const [key, value] of [
      ['sidecarCpuRequest', '50m'],
      ['sidecarMemoryRequest', '128Mi'],
      ['sidecarCpuLimit', '1'],
      ['sidecarMemoryLimit', '256Mi'],
      ['fsGroup', '2000'],
      // A float64 from YAML must not become 3.1536e+07.
      ['durationSeconds', '31536000'],
    ])
      assert.equal(sidecar.get(envName(key!)), value, key);
    assert.equal(sidecar.has(envName('roleArn')), false);
  });

  test('self-signed TLS: the caBundle CA signs the Secret certificate, which matches its key and the Service name', () => {
    const objects = renderChart(helm).objects;
    const secret = findOne(objects, 'Secret') as KubeObject & { type: string; data: Record<string, string> };
    assert.equal(secret.type, 'kubernetes.io/tls');
    const pem = (k: string) => Buffer.from(secret.data[k]!, 'base64').toString('utf8');
    const caBundle = webhookOf(objects).clientConfig.caBundle;
    assert.ok(caBundle, 'self-signed mode sets caBundle');
    const ca = new X509Certificate(Buffer.from(caBundle, 'base64'));
    assert.equal(ca.ca, true);
    assert.equal(
      ca.toString(),
      new X509Certificate(pem('ca.crt')).toString(),
      'caBundle = the Secret ca.crt',
    );
    const leaf = new X509Certificate(pem('tls.crt'));
    assert.ok(leaf.checkIssued(ca), 'the CA issued the serving certificate');
    assert.ok(leaf.verify(ca.publicKey), 'the CA signature verifies');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pem('tls.key'))), 'tls.key matches tls.crt');
    const service = findOne(objects, 'Service').metadata.name!;
    assert.ok(leaf.checkHost(`${service}.${NAMESPACE}.svc`), 'the name the API server dials');
    assert.equal(
      secret.metadata.name,
      deploymentOf(objects).spec.template.spec.volumes[0]?.secret?.secretName,
    );
    // The expiry the chart records (for renewal on upgrade) is the certificate's.
    const recorded = Number(secret.metadata.annotations?.['sts-sidecar.io/tls-not-after']);
    assert.ok(
      Math.abs(recorded * 1000 - Date.parse(leaf.validTo)) < 120_000,
      `${recorded} vs ${leaf.validTo}`,
    );
    // No cert-manager objects or annotation in this mode.
    assert.equal(objects.filter((o) => o.apiVersion.startsWith('cert-manager.io/')).length, 0);
  });

  // The failure of hashicorp/vault-helm #580: a new CA on every upgrade while the running
  // replicas still serve the previous certificate.
  test('self-signed TLS on upgrade: the stored Secret is reused via lookup, renewed only near its end', async (t) => {
    const api = new FakeSecretApi();
    await api.start();
    t.after(() => api.close());
    const dir = mkdtempSync(join(tmpdir(), 'sts-sidecar-helm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = api.writeKubeconfig(dir);
    const secretOf = (objects: KubeObject[]) =>
      findOne(objects, 'Secret') as KubeObject & {
        metadata: { namespace: string; name: string };
        data: Record<string, string>;
      };
    const certs = (bundle: string) =>
      Buffer.from(bundle, 'base64')
        .toString('utf8')
        .split(/(?<=-----END CERTIFICATE-----\n?)/)
        .filter((p) => p.includes('BEGIN CERTIFICATE'))
        .map((p) => new X509Certificate(p));

    const first = secretOf(renderChart(helm).objects);
    api.putSecret(first);
    const upgraded = (await renderAgainstApi(helm, kubeconfig)).objects;
    assert.ok(
      api.requests.includes(`GET /api/v1/namespaces/${NAMESPACE}/secrets/${first.metadata.name}`),
      'lookup asked the API',
    );
    assert.deepEqual(secretOf(upgraded).data, first.data, 'same CA, certificate and key');
    assert.deepEqual(secretOf(upgraded).metadata.annotations, first.metadata.annotations);
    assert.equal(webhookOf(upgraded).clientConfig.caBundle, first.data['ca.crt'], 'caBundle = the stored CA');

    // Within renewBeforeDays of the recorded end: a new pair, and the old CA stays trusted for
    // this release so replicas still serving the old certificate keep answering.
    const soon = String(Math.floor(Date.now() / 1000) + 86_400);
    api.putSecret({
      ...first,
      metadata: { ...first.metadata, annotations: { 'sts-sidecar.io/tls-not-after': soon } },
    });
    const renewed = (await renderAgainstApi(helm, kubeconfig)).objects;
    const renewedSecret = secretOf(renewed);
    assert.notEqual(renewedSecret.data['tls.crt'], first.data['tls.crt']);
    const [newCa, oldCa, ...rest] = certs(webhookOf(renewed).clientConfig.caBundle!);
    assert.equal(rest.length, 0);
    assert.equal(
      newCa!.raw.toString('base64'),
      certs(renewedSecret.data['ca.crt']!)[0]!.raw.toString('base64'),
    );
    assert.equal(oldCa!.raw.toString('base64'), certs(first.data['ca.crt']!)[0]!.raw.toString('base64'));
    assert.ok(new X509Certificate(Buffer.from(renewedSecret.data['tls.crt']!, 'base64')).checkIssued(newCa!));

    // An incomplete Secret (someone deleted the key) is replaced, not half-reused.
    const { 'tls.key': _dropped, ...partial } = first.data;
    api.putSecret({ ...first, data: partial });
    const repaired = secretOf((await renderAgainstApi(helm, kubeconfig)).objects);
    assert.ok(repaired.data['tls.key']);
    assert.notEqual(repaired.data['ca.crt'], first.data['ca.crt']);
  });

  test('cert-manager TLS: inject-ca-from names the Certificate that fills the mounted Secret', () => {
    for (const files of [['values-cert-manager.yaml'], []]) {
      const sets = files.length === 0 ? ['tls.mode=cert-manager'] : [];
      const objects = renderChart(helm, files, sets).objects;
      const config = findOne(objects, 'MutatingWebhookConfiguration');
      const secretName = deploymentOf(objects).spec.template.spec.volumes[0]?.secret?.secretName;
      const serving = objects.find(
        (o) => o.kind === 'Certificate' && (o.spec as { secretName: string }).secretName === secretName,
      ) as KubeObject & { spec: { dnsNames: string[]; issuerRef: { name: string; kind: string } } };
      assert.ok(serving, 'a Certificate writes the Secret the Deployment mounts');
      assert.equal(
        config.metadata.annotations?.['cert-manager.io/inject-ca-from'],
        `${serving.metadata.namespace}/${serving.metadata.name}`,
      );
      assert.equal(webhookOf(objects).clientConfig.caBundle, undefined, 'cainjector owns caBundle');
      assert.ok(serving.spec.dnsNames.includes(`${RELEASE}-sts-sidecar.${NAMESPACE}.svc`));
      assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0, 'cert-manager writes the Secret');
      if (files.length > 0) {
        assert.deepEqual(serving.spec.issuerRef, {
          name: 'internal-ca',
          kind: 'ClusterIssuer',
          group: 'cert-manager.io',
        });
        assert.equal(objects.filter((o) => o.kind === 'Issuer').length, 0, 'the user issuer is used as is');
      } else {
        // Own chain: the serving Certificate's Issuer is a CA Issuer backed by an isCA Certificate.
        const issuer = findOne(objects, 'Issuer', serving.spec.issuerRef.name) as KubeObject & {
          spec: { ca: { secretName: string } };
        };
        const ca = objects.find(
          (o) =>
            o.kind === 'Certificate' &&
            (o.spec as { secretName: string }).secretName === issuer.spec.ca.secretName,
        ) as KubeObject & { spec: { isCA: boolean } };
        assert.equal(ca?.spec.isCA, true);
      }
    }
  });

  test('secret TLS: the user Secret is mounted and its caBundle is used verbatim', () => {
    const objects = renderChart(helm, ['values-secret.yaml']).objects;
    const tls = valuesOf('values-secret.yaml').tls as { secret: { name: string; caBundle: string } };
    assert.equal(deploymentOf(objects).spec.template.spec.volumes[0]?.secret?.secretName, tls.secret.name);
    assert.equal(webhookOf(objects).clientConfig.caBundle, tls.secret.caBundle);
    assert.equal(objects.filter((o) => o.kind === 'Secret' || o.kind === 'Certificate').length, 0);
  });

  test('RBAC: read-only ServiceAccounts, bound to the Deployment ServiceAccount', () => {
    const objects = renderChart(helm).objects;
    const role = findOne(objects, 'ClusterRole') as KubeObject & { rules: unknown[] };
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = findOne(objects, 'ClusterRoleBinding') as KubeObject & {
      roleRef: { name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    assert.equal(binding.roleRef.name, role.metadata.name);
    const sa = findOne(objects, 'ServiceAccount');
    assert.equal(deploymentOf(objects).spec.template.spec.serviceAccountName, sa.metadata.name);
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE },
    ]);
  });

  test('monitoring: PodMonitor scrapes injected sidecars everywhere, ServiceMonitor the webhook', () => {
    const off = renderChart(helm).objects;
    assert.equal(
      off.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/')).length,
      0,
      'off by default',
    );
    const objects = renderChart(helm, ['values-monitoring.yaml']).objects;
    const pm = findOne(objects, 'PodMonitor') as KubeObject & {
      spec: {
        namespaceSelector: unknown;
        selector: unknown;
        podMetricsEndpoints: { port: string; path: string; interval: string }[];
      };
    };
    assert.deepEqual(pm.spec.namespaceSelector, { any: true });
    assert.deepEqual(pm.spec.selector, { matchLabels: { [LABEL_INJECT]: 'true' } });
    assert.deepEqual(pm.spec.podMetricsEndpoints, [
      { port: SIDECAR_OPS_PORT_NAME, path: '/metrics', interval: '15s' },
    ]);
    assert.equal(pm.metadata.labels?.release, 'kube-prometheus-stack');
    const sm = findOne(objects, 'ServiceMonitor') as KubeObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; interval: string }[];
      };
    };
    const service = findOne(objects, 'Service');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
      assert.equal(service.metadata.labels?.[k], v);
    const servicePorts = (service.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
    assert.ok(servicePorts.includes(sm.spec.endpoints[0]!.port));
    assert.equal(sm.spec.endpoints[0]!.interval, '20s');
    assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
  });

  test('NetworkPolicy: admission port open to all, metrics only from the given peers, egress to the API', () => {
    assert.equal(
      renderChart(helm).objects.filter((o) => o.kind === 'NetworkPolicy').length,
      0,
      'off by default',
    );
    const objects = renderChart(helm, ['values-self-signed.yaml']).objects;
    const np = findOne(objects, 'NetworkPolicy') as KubeObject & {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: { ports: { port: string }[]; from?: unknown[] }[];
        egress: { to: { ipBlock: { cidr: string } }[]; ports: { port: number }[] }[];
      };
    };
    assert.deepEqual(np.spec.podSelector.matchLabels, deploymentOf(objects).spec.selector.matchLabels);
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    const https = np.spec.ingress.find((r) => r.ports[0]?.port === 'https');
    assert.ok(https && https.from === undefined, 'no source restriction on the admission port');
    const metrics = np.spec.ingress.find((r) => r.ports[0]?.port === 'metrics');
    const values = valuesOf('values-self-signed.yaml').networkPolicy as { metricsFrom: unknown[] };
    assert.deepEqual(metrics?.from, values.metricsFrom);
    assert.deepEqual(np.spec.egress[0]?.to, [{ ipBlock: { cidr: '10.0.0.1/32' } }]);
  });

  test('NOTES.txt: names the missing defaults, and says what to label and annotate', () => {
    const bare = renderNotes(helm);
    assert.match(bare, /WARNING: no default is set for:/);
    for (const key of ['sts.endpoint', 'sts.flavor', 'sts.audience'])
      assert.ok(bare.includes(`  - ${key} `), key);
    assert.match(bare, /"sts-sidecar\.io\/inject":"true"/);
    assert.match(bare, /annotate serviceaccount <sa>[\s\S]*sts-sidecar\.io\/role-arn=/);
    assert.match(bare, /AWS_CONTAINER_CREDENTIALS_FULL_URI=http:\/\/127\.0\.0\.1:8187\/v1\/credentials/);
    assert.match(bare, /AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=\/var\/run\/sts-sidecar\/auth\/token/);
    assert.match(bare, /failurePolicy is Ignore/);
    // rgw without a role: the role is named as missing too.
    assert.match(renderNotes(helm, [], ['sts.flavor=rgw']), /- sts\.roleArn .*required for rgw/);
    const complete = renderNotes(helm, ['values-cert-manager.yaml']);
    assert.doesNotMatch(complete, /no default is set/);
    assert.match(complete, /AWS_ENDPOINT_URL_S3=https:\/\/s3\.example\.internal/);
    assert.doesNotMatch(complete, /failurePolicy is Ignore/);
  });
});

/** Every rendered object carries the recommended labels with the chart's values. */
function assertStandardLabels(objects: KubeObject[]): void {
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
