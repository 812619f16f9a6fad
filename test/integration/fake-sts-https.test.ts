// test/fakes/fake-sts.ts and the OIDC issuer over https with self-signed certificates, and the
// fake's injectable clock (the `now` option).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { test } from 'node:test';
import { AUDIENCE, failure, setup } from '../helpers/fake-sts-setup.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

test('https: issuer and STS with self-signed certs, trusted via CA', async (t) => {
  const issuerCert = await createSelfSignedCert();
  const stsCert = await createSelfSignedCert();
  t.after(() => rm(issuerCert.dir, { recursive: true, force: true }));
  t.after(() => rm(stsCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'rgw', {
    issuer: { tls: issuerCert },
    sts: { tls: stsCert, issuerCa: issuerCert.certPem },
    client: { requestHandler: { httpsAgent: new Agent({ ca: stsCert.certPem }) } },
  });
  assert.match(sts.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const out = await call();
  assert.equal(out.Credentials?.AccessKeyId, sts.issued?.accessKeyId);
  assert.match(out.Provider ?? '', /^https:\/\//);
});

test('https: STS without the issuer CA cannot fetch the JWKS', async (t) => {
  const issuerCert = await createSelfSignedCert();
  t.after(() => rm(issuerCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'rgw', { issuer: { tls: issuerCert } });
  const err = await failure(call());
  assert.equal(err.$metadata?.httpStatusCode, 403);
  assert.equal(sts.requests[0]?.reason, 'jwks-unavailable');
});

test('https: client without the STS CA fails before any request is recorded', async (t) => {
  const stsCert = await createSelfSignedCert();
  t.after(() => rm(stsCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'minio', { sts: { tls: stsCert } });
  const err = await failure(call());
  assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.equal(err.$metadata?.httpStatusCode, undefined);
  assert.equal(sts.requests.length, 0);
});

test('now option: token checks and expirations follow the injected clock', async (t) => {
  const fakeNow = Date.now() + 2 * 3600_000;
  const { issuer, sts, call } = await setup(t, 'rgw', { sts: { now: () => fakeNow } });
  await failure(call());
  assert.equal(sts.requests[0]?.reason, 'expired');
  const out = await call({
    WebIdentityToken: issuer.signToken({ audience: AUDIENCE, now: new Date(fakeNow) }),
  });
  assert.equal(out.Credentials?.Expiration?.getTime(), fakeNow + 3600_000);
});
