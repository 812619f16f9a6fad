// charts/sts-sidecar, issuer.enabled: the publisher's objects, their hardening, its env (only real
// issuer options) and Services. Golden renders of test/fixtures/render/issuer-values-<case>.yaml
// are test/fixtures/render/issuer-<case>.yaml (UPDATE_GOLDEN=1 to rewrite, then review the diff).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ISSUER_OPTIONS } from '../../src/config/issuer-options.ts';
import {
  assertStandardLabels,
  CHART_DIR,
  chartSuiteHelm,
  type Deployment,
  findOne,
  KUBE_VERSION,
  NAMESPACE,
  normalizeGenerated,
  RELEASE,
  renderChart,
  RENDER_FIXTURES,
  runHelm,
  valueArgs,
} from '../helpers/helm-chart.ts';
import {
  FULL,
  issuerDeployment,
  issuerEnv as envOf,
  NAME,
  ONLY,
  optionDefault,
  optionEnv,
} from '../helpers/helm-chart-issuer.ts';
import { type KubeObject, validateManifests } from '../helpers/k8s-schema.ts';

const { helm, skip } = chartSuiteHelm();

describe('helm chart: issuer', { skip }, () => {
  for (const name of ['only', 'full'])
    test(`lint, schema-valid objects, labels and golden render: issuer-${name}`, async () => {
      const files = [`issuer-values-${name}.yaml`];
      const lint = runHelm(helm, [
        'lint',
        '--strict',
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        ...valueArgs(files),
      ]);
      assert.equal(lint.status, 0, lint.stdout + lint.stderr);
      const { text, objects } = renderChart(helm, files);
      await validateManifests(objects);
      assertStandardLabels(objects);
      const golden = join(RENDER_FIXTURES, `issuer-${name}.yaml`);
      // The generated CA key is new on every render without a cluster, like the TLS material.
      const normalized = normalizeGenerated(text).replace(
        /^(\s+ca\.key: )\S+$/gm,
        '$1<generated PEM, base64>',
      );
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, normalized);
      assert.ok(existsSync(golden), `${golden} is missing (UPDATE_GOLDEN=1 to write it)`);
      assert.equal(
        normalized,
        readFileSync(golden, 'utf8'),
        `issuer-${name}.yaml differs (UPDATE_GOLDEN=1 to rewrite)`,
      );
    });

  test('issuer alone (webhook.enabled=false): only issuer objects, none of the webhook', () => {
    const objects = renderChart(helm, ONLY).objects;
    for (const o of objects)
      assert.equal(
        o.metadata.labels?.['app.kubernetes.io/component'],
        'issuer',
        `${o.kind}/${o.metadata.name}`,
      );
    assert.equal(objects.filter((o) => o.kind === 'MutatingWebhookConfiguration').length, 0);
    assert.equal(
      renderChart(helm, [], ['webhook.enabled=false']).objects.length,
      0,
      'nothing when both are off',
    );
  });

  test('deployment hardening: as the webhook, non-root, read-only, no privilege escalation, no capabilities', () => {
    const objects = renderChart(helm, FULL).objects;
    const issuer = issuerDeployment(objects).spec.template.spec;
    const webhook = (findOne(objects, 'Deployment', `${RELEASE}-sts-sidecar`) as Deployment).spec.template
      .spec;
    assert.deepEqual(issuer.securityContext, webhook.securityContext);
    assert.deepEqual(issuer.containers[0]!.securityContext, webhook.containers[0]!.securityContext);
    assert.deepEqual(issuer.containers[0]!.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(
      (issuer as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken,
      true,
    );
    assert.deepEqual(issuer.containers[0]!.args, ['issuer']);
    assert.equal(issuerDeployment(objects).spec.replicas, 2);
  });

  test('env: every name is an issuer option, values reach it, mounts and ports match the option defaults', () => {
    const objects = renderChart(helm, ONLY).objects;
    const known = new Set(ISSUER_OPTIONS.map((o) => o.env));
    const env = envOf(objects);
    for (const name of env.keys())
      assert.ok(known.has(name), `${name} is not in src/config/issuer-options.ts`);
    assert.equal(env.get(optionEnv('refreshIntervalSeconds')), '2');
    assert.equal(env.get(optionEnv('maxStaleSeconds')), '30');
    assert.equal(env.get(optionEnv('probeNamespace')), NAMESPACE);
    assert.equal(env.has(optionEnv('issuerUrl')), false, 'unset: not rendered as ""');
    assert.equal(
      envOf(renderChart(helm, FULL).objects).get(optionEnv('issuerUrl')),
      'https://oidc.example.com',
    );
    const spec = issuerDeployment(objects).spec.template.spec;
    assert.equal(env.get(optionEnv('probeServiceAccount')), spec.serviceAccountName);
    const container = spec.containers[0]!;
    assert.equal(container.image, 'registry.example/sts-sidecar:e2e');
    assert.equal(container.imagePullPolicy, 'Never');
    const mounted = container.volumeMounts!.flatMap((m) => {
      const volume = spec.volumes.find((v) => v.name === m.name)!;
      assert.ok(m.readOnly, m.name);
      return volume.secret!.items!.map((i) => [`${m.mountPath}/${i.path}`, volume.secret!.secretName]);
    });
    assert.deepEqual(mounted, [
      [optionDefault('tlsCertFile'), 'issuer-serving-tls'],
      [optionDefault('tlsKeyFile'), 'issuer-serving-tls'],
      [optionDefault('caKeyFile'), `${NAME}-ca-key`],
    ]);
    const port = (name: string) => container.ports!.find((p) => p.name === name)!.containerPort;
    assert.equal(port('https'), Number(optionDefault('listenPort')));
    assert.equal(port('metrics'), Number(optionDefault('opsPort')));
    const caVolume = spec.volumes.find((v) => v.name === 'ca-key')!.secret as { defaultMode?: number };
    assert.equal(caVolume.defaultMode, 0o440);
  });

  test('services: NodePort with the fixed node port for stores; /metrics only on a ClusterIP Service', () => {
    type Service = KubeObject & {
      spec: { type: string; ports: { name: string; port: number; nodePort?: number }[] };
    };
    const objects = renderChart(helm, ONLY).objects;
    const main = findOne(objects, 'Service', NAME) as Service;
    assert.equal(main.spec.type, 'NodePort');
    assert.deepEqual(
      main.spec.ports.map((p) => [p.name, p.port, p.nodePort]),
      [['https', 443, 30443]],
    );
    const ops = findOne(objects, 'Service', `${NAME}-ops`) as Service;
    assert.equal(ops.spec.type, 'ClusterIP');
    assert.deepEqual(
      ops.spec.ports.map((p) => [p.name, p.port]),
      [['metrics', 9189]],
    );
    const clusterIp = findOne(
      renderChart(helm, [], ['issuer.enabled=true', 'issuer.service.nodePort=30443']).objects,
      'Service',
      NAME,
    ) as Service;
    assert.equal(clusterIp.spec.ports[0]!.nodePort, undefined, 'no nodePort on a ClusterIP Service');
    const monitor = findOne(renderChart(helm, FULL).objects, 'ServiceMonitor', NAME) as KubeObject & {
      spec: { endpoints: { port: string }[] };
    };
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => e.port),
      ['metrics'],
    );
  });
});
