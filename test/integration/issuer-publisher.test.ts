// The issuer publisher in-process against the fake API server: what stores fetch over HTTPS.
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { newSigningKey } from '../fakes/fake-cluster-issuer.ts';
import { IssuerHarness } from '../helpers/issuer-harness.ts';

type Jwk = { kid: string; kty: string; n: string; e: string; x5c: string[] };
const keysOf = (body: string): Jwk[] => (JSON.parse(body) as { keys: Jwk[] }).keys;

test('x5c for every key, chaining to the CA and carrying the JWK key; discovery points at our JWKS', async (t) => {
  const h = await IssuerHarness.start(t);
  h.cluster.keys.push(newSigningKey(), newSigningKey());
  await h.running.refresher.settled();
  await h.running.refresher.refresh();
  const jwks = await h.fetch('/openid/v1/jwks');
  assert.equal(jwks.status, 200);
  assert.equal(jwks.headers['content-type'], 'application/jwk-set+json');
  assert.equal(jwks.headers['cache-control'], 'public, max-age=60');
  const served = keysOf(jwks.body);
  assert.equal(served.length, 3);
  const thumbprints = JSON.parse((await h.fetch('/thumbprints')).body) as {
    kid: string;
    thumbprint: string;
  }[];
  for (const [i, key] of served.entries()) {
    const fake = h.cluster.keys.find((k) => k.kid === key.kid)!;
    assert.equal(key.x5c.length, 1);
    const leaf = new X509Certificate(Buffer.from(key.x5c[0]!, 'base64'));
    assert.ok(
      leaf.publicKey.equals(createPublicKey(fake.privateKey)),
      `${key.kid}: the leaf holds the JWK key`,
    );
    assert.equal(leaf.subject, `CN=${key.kid}`);
    assert.match(leaf.issuer, /^CN=sts-sidecar issuer CA [0-9a-f]{8}$/);
    assert.equal(thumbprints[i]!.thumbprint, leaf.fingerprint.replaceAll(':', '').toLowerCase());
  }
  const discovery = JSON.parse((await h.fetch('/.well-known/openid-configuration')).body) as Record<
    string,
    unknown
  >;
  assert.equal(discovery.issuer, h.cluster.issuer);
  assert.equal(discovery.jwks_uri, `${h.cluster.issuer}/openid/v1/jwks`);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
});

test('the signing key is first, as the probe says; a signing switch reorders at the next refresh', async (t) => {
  const h = await IssuerHarness.start(t);
  const [a, b, c] = [h.cluster.keys[0]!, newSigningKey(), newSigningKey()];
  h.cluster.keys.push(b, c);
  h.cluster.signingKid = c.kid;
  await h.running.refresher.settled();
  await h.running.refresher.refresh();
  assert.deepEqual(
    keysOf((await h.fetch('/openid/v1/jwks')).body).map((k) => k.kid),
    [c.kid, a.kid, b.kid],
  );
  const probes = h.cluster.tokenRequests.length;
  assert.ok(probes >= 1);
  // The key set stays, the signing key changes: the standard rotation's second step.
  h.cluster.signingKid = b.kid;
  await h.advance(60_000);
  assert.ok(h.cluster.tokenRequests.length > probes, 'probed again at the timed refresh');
  assert.deepEqual(
    keysOf((await h.fetch('/openid/v1/jwks')).body).map((k) => k.kid),
    [b.kid, a.kid, c.kid],
  );
  const thumbprints = JSON.parse((await h.fetch('/thumbprints')).body) as { kid: string; signing: boolean }[];
  assert.deepEqual(
    thumbprints.map((k) => [k.kid, k.signing]),
    [
      [b.kid, true],
      [a.kid, false],
      [c.kid, false],
    ],
  );
  const changes = h.lines.filter((l) => l.event === 'keys_changed');
  assert.equal(changes.length, 2, 'one key-set line per change');
  assert.match(String(changes[1]!.msg), new RegExp(`${b.kid}=[0-9a-f]{40} \\(signing\\)`));
  const info = await h.running.metrics.keyInfo.get();
  assert.deepEqual(
    info.values.map((v) => [v.labels.kid, v.labels.signing]).sort(),
    [
      [a.kid, 'false'],
      [b.kid, 'true'],
      [c.kid, 'false'],
    ].sort(),
  );
});

test('one key: no TokenRequest is made', async (t) => {
  const h = await IssuerHarness.start(t);
  await h.running.refresher.settled();
  assert.equal((await h.fetch('/openid/v1/jwks')).status, 200);
  assert.equal(h.cluster.requests.token, 0);
});

test('a failed probe with several keys: the previous documents stay, never an unordered JWKS', async (t) => {
  const h = await IssuerHarness.start(t);
  await h.running.refresher.settled();
  const before = (await h.fetch('/openid/v1/jwks')).body;
  h.cluster.keys.unshift(newSigningKey());
  h.cluster.failTokenRequests('http403');
  await h.advance(60_000);
  assert.equal(await h.refreshes('probe_failed'), 1);
  assert.equal((await h.fetch('/openid/v1/jwks')).body, before);
  const failed = h.lines.find((l) => l.event === 'refresh_failed')!;
  assert.equal((failed.err as { code: string }).code, 'ISSUER_PROBE_FAILED');
  assert.equal(failed.serving, 'cached');
});

test('HTTP: HEAD, 405 and 404 with the JSON error body, the issuer path prefix, 503 before the first load', async (t) => {
  const h = await IssuerHarness.start(t);
  h.cluster.failDocuments('http500');
  await h.running.refresher.settled();
  const early = await h.fetch('/openid/v1/jwks');
  assert.equal(early.status, 503);
  assert.equal((JSON.parse(early.body) as { code: string }).code, 'ISSUER_NOT_READY');
  h.cluster.failDocuments(undefined);
  h.cluster.issuer = 'https://issuer.example/clusters/a';
  await h.advance(5_000); // the first-load retry
  const get = await h.fetch('/clusters/a/.well-known/openid-configuration');
  assert.equal(get.status, 200, 'served under the issuer URL path');
  assert.equal((await h.fetch('/.well-known/openid-configuration')).body, get.body, 'and at the root');
  const head = await h.fetch('/openid/v1/jwks', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(Number(head.headers['content-length']), (await h.fetch('/openid/v1/jwks')).body.length);
  const post = await h.fetch('/openid/v1/jwks', 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.deepEqual(JSON.parse(post.body), {
    Code: 'HTTP_METHOD_NOT_ALLOWED',
    Message: 'Use GET or HEAD.',
    code: 'HTTP_METHOD_NOT_ALLOWED',
    message: 'Use GET or HEAD.',
  });
  const missing = await h.fetch('/keys');
  assert.equal(missing.status, 404);
  assert.equal((JSON.parse(missing.body) as { code: string }).code, 'HTTP_NOT_FOUND');
  const requests = await h.running.metrics.requests.get();
  const count = (document: string, code: string) =>
    requests.values.find((v) => v.labels.document === document && v.labels.code === code)?.value;
  assert.equal(count('jwks', '405'), 1);
  assert.equal(count('other', '404'), 1);
  assert.equal(count('jwks', '503'), 1);
});
