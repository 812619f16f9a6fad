// charts/sts-sidecar, issuer.enabled: least-privilege RBAC, the PDB, the CA key and TLS pair kept
// across upgrades (Helm lookup against a fake API), and the values the chart refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeSecretApi } from '../fakes/fake-secret-api.ts';
import {
  CHART_DIR,
  chartSuiteHelm,
  findOne,
  KUBE_VERSION,
  NAMESPACE,
  RELEASE,
  renderAgainstApi,
  renderChart,
  runHelm,
  valueArgs,
} from '../helpers/helm-chart.ts';
import { issuerDeployment, NAME, ONLY, type Secret } from '../helpers/helm-chart-issuer.ts';
import type { KubeObject } from '../helpers/k8s-schema.ts';

const { helm, skip } = chartSuiteHelm();

describe('helm chart: issuer RBAC, upgrades, refusals', { skip }, () => {
  test('RBAC least privilege: the discovery ClusterRole, and create on its own serviceaccounts/token only', () => {
    const objects = renderChart(helm, ONLY).objects;
    const sa = findOne(objects, 'ServiceAccount').metadata.name!;
    const subject = [{ kind: 'ServiceAccount', name: sa, namespace: NAMESPACE }];
    assert.equal(objects.filter((o) => o.kind === 'ClusterRole').length, 0, 'no ClusterRole of our own');
    const crb = findOne(objects, 'ClusterRoleBinding') as KubeObject & {
      roleRef: unknown;
      subjects: unknown;
    };
    assert.deepEqual(crb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'system:service-account-issuer-discovery',
    });
    assert.deepEqual(crb.subjects, subject);
    const role = findOne(objects, 'Role') as KubeObject & { rules: unknown };
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'], resourceNames: [sa] },
    ]);
    const rb = findOne(objects, 'RoleBinding') as KubeObject & {
      roleRef: { name: string };
      subjects: unknown;
    };
    assert.equal(rb.roleRef.name, role.metadata.name);
    assert.deepEqual(rb.subjects, subject);
  });

  test('PDB with two replicas, none with one', () => {
    const pdb = findOne(renderChart(helm, ONLY).objects, 'PodDisruptionBudget') as KubeObject & {
      spec: { selector: unknown };
    };
    assert.deepEqual(pdb.spec.selector, {
      matchLabels: issuerDeployment(renderChart(helm, ONLY).objects).spec.selector.matchLabels,
    });
    const one = renderChart(helm, ONLY, ['issuer.replicas=1']).objects;
    assert.equal(one.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
  });

  test('upgrade: the CA key and the TLS pair are reused; new extra names renew the certificate', async (t) => {
    const api = new FakeSecretApi();
    await api.start();
    t.after(() => api.close());
    const dir = mkdtempSync(join(tmpdir(), 'sts-issuer-helm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = api.writeKubeconfig(dir);
    const sets = ['issuer.enabled=true', 'webhook.enabled=false'];
    const secret = (objects: KubeObject[], name: string) => findOne(objects, 'Secret', name) as Secret;
    const first = renderChart(helm, [], sets).objects;
    for (const name of [`${NAME}-ca-key`, `${NAME}-tls`]) api.putSecret(secret(first, name) as never);
    const upgraded = (await renderAgainstApi(helm, kubeconfig, sets)).objects;
    assert.deepEqual(
      secret(upgraded, `${NAME}-ca-key`).data,
      secret(first, `${NAME}-ca-key`).data,
      'the same CA key',
    );
    assert.deepEqual(
      secret(upgraded, `${NAME}-tls`).data,
      secret(first, `${NAME}-tls`).data,
      'the same TLS pair',
    );
    const renamed = (
      await renderAgainstApi(helm, kubeconfig, [...sets, 'issuer.tls.extraDnsNames[0]=oidc.example.com'])
    ).objects;
    assert.notDeepEqual(
      secret(renamed, `${NAME}-tls`).data,
      secret(first, `${NAME}-tls`).data,
      'a new certificate for the new name',
    );
    assert.deepEqual(secret(renamed, `${NAME}-ca-key`).data, secret(first, `${NAME}-ca-key`).data);
    const existing = renderChart(helm, [], [...sets, 'issuer.caKey.existingSecret=my-ca']).objects;
    assert.equal(
      existing.filter((o) => o.kind === 'Secret' && o.metadata.name?.endsWith('-ca-key')).length,
      0,
    );
    const volume = issuerDeployment(existing).spec.template.spec.volumes.find((v) => v.name === 'ca-key');
    assert.equal(volume?.secret?.secretName, 'my-ca');
  });

  const rejected: Array<[string, string[], RegExp]> = [
    ['secret mode without a Secret name', ['issuer.tls.mode=secret'], /\/issuer\/tls\/secret/],
    ['an ExternalName Service', ['issuer.service.type=ExternalName'], /\/issuer\/service\/type/],
    ['a zero refresh interval', ['issuer.refreshIntervalSeconds=0'], /\/issuer\/refreshIntervalSeconds/],
    ['a typo key', ['issuer.replica=3'], /'replica' not allowed/],
    ['an http issuer URL', ['issuer.issuerUrl=http://x.example'], /\/issuer\/issuerUrl/],
    [
      'max-stale below the refresh interval',
      ['issuer.enabled=true', 'issuer.refreshIntervalSeconds=600', 'issuer.maxStaleSeconds=60'],
      /issuer.maxStaleSeconds must be at least issuer.refreshIntervalSeconds/,
    ],
  ];
  for (const [name, sets, message] of rejected)
    test(`refused: ${name}`, () => {
      const r = runHelm(helm, [
        'template',
        RELEASE,
        CHART_DIR,
        '--kube-version',
        KUBE_VERSION,
        ...valueArgs([], sets),
      ]);
      assert.notEqual(r.status, 0, `helm accepted ${sets.join(' ')}`);
      assert.match(r.stderr, message);
    });
});
