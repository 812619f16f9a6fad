// The ServiceAccount cache on the real @kubernetes/client-node informer against the fake API.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { type TestContext, test } from 'node:test';
import { createServiceAccountApi } from '../../src/kube/kube-client.ts';
import { ServiceAccountCache } from '../../src/webhook/service-account-cache.ts';
import { createLogger } from '../../src/shared/log.ts';
import { WebhookMetrics } from '../../src/webhook/webhook-metrics.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

async function setup(t: TestContext, graceMs: number, prepare?: (kube: FakeKubeApi) => void) {
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  prepare?.(kube);
  const metrics = new WebhookMetrics({ processMetrics: false });
  const api = createServiceAccountApi({ kubeconfig: await kube.writeKubeconfig(cert.dir) });
  const cache = new ServiceAccountCache({
    api,
    graceMs,
    metrics,
    logger: createLogger({ level: 'silent' }),
    restartDelayMs: 5,
  });
  const watching = kube.nextWatch();
  await cache.start();
  await watching;
  t.after(async () => {
    await cache.stop();
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
  });
  const lookups = async () =>
    (await metrics.serviceAccountLookups.get()).values.map((v) => [v.labels.source, v.value]);
  return { kube, cache, metrics, lookups };
}

test('an existing ServiceAccount is answered from the listed cache, without a GET', async (t) => {
  const { kube, cache, lookups } = await setup(t, 1000, (k) =>
    k.upsert({
      namespace: 'shop',
      name: 'app',
      annotations: { 'sts-sidecar.io/role-arn': 'arn:aws:iam:::role/a' },
    }),
  );
  const sa = await cache.lookup('shop', 'app');
  assert.deepEqual(sa?.annotations, { 'sts-sidecar.io/role-arn': 'arn:aws:iam:::role/a' });
  assert.equal(kube.requests.get, 0);
  assert.deepEqual(await lookups(), [['cache', 1]]);
});

// Regression for the race of the EKS webhook (#174): SA and Deployment in one apply.
test('a ServiceAccount created while a lookup waits is delivered by the watch within the grace period', async (t) => {
  const { kube, cache, lookups } = await setup(t, 5_000);
  const pending = cache.lookup('shop', 'late'); // registers its waiter synchronously after the miss
  kube.upsert({ namespace: 'shop', name: 'late', annotations: { 'sts-sidecar.io/audience': 'x' } });
  const sa = await pending;
  assert.equal(sa?.annotations['sts-sidecar.io/audience'], 'x');
  assert.equal(kube.requests.get, 0, 'answered by the watch, not by a GET');
  assert.deepEqual(await lookups(), [['grace', 1]]);
});

test('when the watch lags past the grace period, one GET answers', async (t) => {
  const { kube, cache, lookups } = await setup(t, 20);
  kube.pauseWatch();
  kube.upsert({ namespace: 'shop', name: 'slow', annotations: { a: 'b' } });
  const sa = await cache.lookup('shop', 'slow');
  assert.deepEqual(sa?.annotations, { a: 'b' });
  assert.equal(kube.requests.get, 1);
  assert.deepEqual(await lookups(), [['api', 1]]);
});

test('a ServiceAccount that does not exist is undefined (404), not an error', async (t) => {
  const { cache, lookups } = await setup(t, 0);
  assert.equal(await cache.lookup('shop', 'ghost'), undefined);
  assert.deepEqual(await lookups(), [['not_found', 1]]);
});

test('a failed list is retried: the informer restarts and fills the cache', async (t) => {
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  kube.upsert({ namespace: 'shop', name: 'app' });
  kube.failLists(2);
  const metrics = new WebhookMetrics({ processMetrics: false });
  const cache = new ServiceAccountCache({
    api: createServiceAccountApi({ kubeconfig: await kube.writeKubeconfig(cert.dir) }),
    graceMs: 0,
    metrics,
    logger: createLogger({ level: 'silent' }),
    restartDelayMs: 5,
  });
  t.after(async () => {
    await cache.stop();
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
  });
  const watching = kube.nextWatch();
  await cache.start();
  await watching; // only reached after a successful list
  assert.equal(kube.requests.list, 3);
  assert.deepEqual(await cache.lookup('shop', 'app'), { namespace: 'shop', name: 'app', annotations: {} });
  assert.equal(kube.requests.get, 0);
  assert.equal((await metrics.serviceAccountsCached.get()).values[0]?.value, 1);
});
