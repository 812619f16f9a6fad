// charts/sts-sidecar: the webhook's serving TLS in each tls.mode: self-signed (the CA must really
// sign the certificate; reused via lookup on upgrade), cert-manager, and a user-supplied Secret.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeSecretApi } from '../fakes/fake-secret-api.ts';
import {
  deploymentOf,
  findOne,
  NAMESPACE,
  RELEASE,
  renderAgainstApi,
  renderChart,
  valuesOf,
  webhookOf,
  chartSuiteHelm,
} from '../helpers/helm-chart.ts';
import type { KubeObject } from '../helpers/k8s-schema.ts';

const { helm, skip } = chartSuiteHelm();

describe('helm chart', { skip }, () => {
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
});
