// sts_sidecar_credential_requests_total: every request must show up exactly once, in every scrape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SidecarMetrics } from '../../src/sidecar/sidecar-metrics.ts';

async function requestCounts(metrics: SidecarMetrics): Promise<Record<string, number>> {
  const text = await metrics.registry.metrics();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^sts_sidecar_credential_requests_total\{status="(\d+)"\} (\d+)$/gm))
    counts[match[1]!] = Number(match[2]);
  return counts;
}

test('each counted request appears in the next scrape and is never counted twice', async () => {
  const metrics = new SidecarMetrics({ processMetrics: false });
  assert.deepEqual(await requestCounts(metrics), {});
  for (const status of [200, 200, 200, 401]) metrics.credentialRequests.inc({ status: String(status) });
  assert.deepEqual(await requestCounts(metrics), { '200': 3, '401': 1 });
  assert.deepEqual(await requestCounts(metrics), { '200': 3, '401': 1 }, 'a scrape with no new requests');
  for (const status of [200, 200, 503]) metrics.credentialRequests.inc({ status: String(status) });
  assert.deepEqual(await requestCounts(metrics), { '200': 5, '401': 1, '503': 1 });
});

test('reading the counter directly (prom-client get) sees the tally too', async () => {
  const metrics = new SidecarMetrics({ processMetrics: false });
  metrics.credentialRequests.inc({ status: '404' });
  const { values } = await metrics.credentialRequests.get();
  assert.deepEqual(
    values.map((v) => [v.labels.status, v.value]),
    [['404', 1]],
  );
});
