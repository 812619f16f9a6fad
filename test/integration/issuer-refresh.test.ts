// The publisher through API-server outages, an issuer mismatch and a certificate rotation, on a
// virtual clock (refresh 60 s, max-stale 180 s): no sleeps, time moves when the test says so.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFile, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { newSigningKey } from '../fakes/fake-cluster-issuer.ts';
import { IssuerHarness } from '../helpers/issuer-harness.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

for (const fault of ['down', 'http500', 'slow'] as const)
  test(`API server ${fault}: the cached documents are served; /readyz turns 503 only after max-stale`, async (t) => {
    // A slow API server is given up on after 1 s, so the three timed refreshes take 3 s, not 6.
    const h = await IssuerHarness.start(t, { args: ['--api-timeout-seconds=1'] });
    await h.running.refresher.settled();
    const jwks = (await h.fetch('/openid/v1/jwks')).body;
    assert.equal((await h.ops('/readyz')).status, 200);
    h.cluster.failDocuments(fault);
    h.cluster.keys.push(newSigningKey()); // a change that must not show while the API is down
    for (const at of [60, 120, 180]) {
      await h.advance(60_000);
      assert.equal(await h.refreshes('api_error'), at / 60, `t=${at}s: the timed refresh ran and failed`);
      assert.equal((await h.fetch('/openid/v1/jwks')).body, jwks, `t=${at}s: cached`);
      assert.equal((await h.ops('/readyz')).status, 200, `t=${at}s: still ready (age ${at} s <= 180 s)`);
    }
    h.clock.advanceBy(1_000); // 181 s since the last success; no refresh due
    assert.equal(h.running.refresher.readiness().reason, 'documents are stale: last refreshed 181 s ago');
    const stale = await h.ops('/readyz');
    assert.equal(stale.status, 503);
    assert.equal((await h.fetch('/openid/v1/jwks')).body, jwks, 'still served while unready');
    const age = (await h.running.metrics.documentAge.get()).values[0]!.value;
    assert.equal(age, 181);
    h.cluster.failDocuments(undefined);
    await h.advance(59_000);
    assert.equal(await h.refreshes('success'), 2);
    assert.equal((await h.ops('/readyz')).status, 200);
    assert.equal(JSON.parse((await h.fetch('/openid/v1/jwks')).body).keys.length, 2, 'the change shows now');
  });

test('not ready before the first load; the first load is retried every 5 s, not every interval', async (t) => {
  const h = await IssuerHarness.start(t);
  h.cluster.failDocuments('http500');
  await h.running.refresher.settled();
  assert.equal((await h.ops('/readyz')).status, 503);
  assert.equal(h.running.refresher.readiness().reason, 'no documents loaded from the API server yet');
  assert.equal((await h.running.metrics.documentAge.get()).values[0]!.value, -1);
  const failures = await h.refreshes('api_error');
  await h.advance(5_000);
  assert.equal(await h.refreshes('api_error'), failures + 1);
  h.cluster.failDocuments(undefined);
  await h.advance(5_000);
  assert.equal((await h.ops('/readyz')).status, 200);
  const lastSuccess = (await h.running.metrics.lastSuccess.get()).values[0]!.value;
  assert.equal(lastSuccess, Math.floor(h.clock.now() / 1000));
});

test('--issuer-url differs from the API server issuer: an error naming both, unready until they agree', async (t) => {
  const h = await IssuerHarness.start(t, { args: ['--issuer-url=https://oidc.example.com'] });
  await h.running.refresher.settled();
  assert.equal((await h.ops('/readyz')).status, 503);
  assert.equal(await h.refreshes('issuer_mismatch'), 1);
  const line = h.lines.find((l) => l.event === 'refresh_failed')!;
  assert.equal(line.level, 'error');
  const err = line.err as Record<string, string>;
  assert.equal(err.code, 'ISSUER_URL_MISMATCH');
  assert.equal(err.apiServerIssuer, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(err.issuerUrl, 'https://oidc.example.com/');
  assert.match(
    String(err.message),
    /kubernetes\.default\.svc\.cluster\.local is not --issuer-url https:\/\/oidc\.example\.com/,
  );
  h.cluster.issuer = 'https://oidc.example.com';
  await h.advance(5_000);
  assert.equal((await h.ops('/readyz')).status, 200);
  assert.equal(h.running.refresher.readiness().ready, true);
});

test('TLS reload: a mismatched pair is refused, then the rotated certificate is served to new connections', async (t) => {
  const h = await IssuerHarness.start(t);
  await h.running.refresher.settled();
  const next = await createSelfSignedCert({ commonName: 'rotated' });
  t.after(() => rm(next.dir, { recursive: true, force: true }));
  // The key first: it does not match the served certificate, so the old pair stays.
  const failed = once(h.running.tls, 'failed');
  await copyFile(next.keyFile, h.tls.keyFile);
  await failed;
  assert.equal((await h.fetch('/thumbprints')).status, 200, 'kept the working pair');
  const reloaded = once(h.running.tls, 'reloaded');
  await copyFile(next.certFile, h.tls.certFile);
  await reloaded;
  assert.equal(
    (await h.fetch('/thumbprints', 'GET', next.certPem)).status,
    200,
    'the new certificate is served',
  );
  await assert.rejects(h.fetch('/thumbprints'), /self-signed|certificate/, 'the old one is gone');
  const reloads = (await h.running.metrics.tlsReloads.get()).values.map((v) => [v.labels.result, v.value]);
  assert.deepEqual(reloads.sort(), [
    ['failure', 1],
    ['success', 1],
  ]);
});
