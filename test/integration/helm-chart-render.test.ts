// charts/sts-sidecar: helm lint, the values schema, kubeVersion and the golden renders
// (test/fixtures/render/<case>.yaml, generated TLS normalised). After a deliberate chart change:
//   UPDATE_GOLDEN=1 node --test test/integration/helm-chart-render.test.ts, and review the diff.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  assertStandardLabels,
  CHART_DIR,
  KUBE_VERSION,
  normalizeGenerated,
  RELEASE,
  renderChart,
  RENDER_FIXTURES,
  runHelm,
  valueArgs,
  VALUE_SETS,
  chartSuiteHelm,
} from '../helpers/helm-chart.ts';
import { validateManifests } from '../helpers/k8s-schema.ts';

const { helm, found, skip } = chartSuiteHelm();
const update = process.env.UPDATE_GOLDEN === '1';

describe('helm chart', { skip }, () => {
  test(`helm lint --strict: defaults and every value set (${found ? 'helm found' : 'no helm'})`, () => {
    for (const c of VALUE_SETS) {
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

  for (const c of VALUE_SETS) {
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
        VALUE_SETS.some((c) => c.name === name),
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
});
