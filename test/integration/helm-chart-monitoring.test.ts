// charts/sts-sidecar: the optional monitoring objects (PodMonitor, ServiceMonitor) and
// NetworkPolicy, and what NOTES.txt tells the user after install.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LABEL_INJECT } from '../../src/webhook/annotations.ts';
import { SIDECAR_OPS_PORT_NAME } from '../../src/webhook/injected-names.ts';
import {
  deploymentOf,
  findOne,
  renderChart,
  renderNotes,
  valuesOf,
  chartSuiteHelm,
} from '../helpers/helm-chart.ts';
import type { KubeObject } from '../helpers/k8s-schema.ts';

const { helm, skip } = chartSuiteHelm();

describe('helm chart', { skip }, () => {
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
