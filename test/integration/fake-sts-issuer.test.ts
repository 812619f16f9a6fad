// The fakes' building blocks: test/helpers/tls.ts certificates and test/fakes/oidc-issuer.ts
// tokens, discovery document and JWKS.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { OidcIssuer } from '../fakes/oidc-issuer.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

test('tls helper: SAN, one-day validity, SHA-1 thumbprint of the DER cert', async (t) => {
  const cert = await createSelfSignedCert({ commonName: 'oidc.test' });
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const x509 = new X509Certificate(cert.certPem);
  assert.equal(cert.sha1Thumbprint, createHash('sha1').update(x509.raw).digest('hex').toUpperCase());
  assert.match(cert.sha1Thumbprint, /^[0-9A-F]{40}$/);
  assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(x509.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x509.subject, /CN=oidc\.test/);
  const lifetimeMs = Date.parse(x509.validTo) - Date.parse(x509.validFrom);
  assert.equal(lifetimeMs, 24 * 3600 * 1000);
});

test('oidc issuer: token shaped like a projected ServiceAccount token', async (t) => {
  const issuer = await OidcIssuer.start();
  t.after(() => issuer.close());
  const now = new Date('2030-01-01T00:00:00Z');
  const token = issuer.signToken({
    namespace: 'ns1',
    serviceAccount: 'sa1',
    podName: 'pod-1',
    audience: 'aud1',
    now,
  });
  const [h, p] = token
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  assert.deepEqual(h, { alg: 'RS256', kid: issuer.currentKid, typ: 'JWT' });
  assert.equal(p.iss, issuer.issuer);
  assert.equal(p.sub, 'system:serviceaccount:ns1:sa1');
  assert.deepEqual(p.aud, ['aud1']);
  assert.equal(p.iat, Date.parse('2030-01-01T00:00:00Z') / 1000);
  assert.equal(p.nbf, p.iat);
  assert.equal(p.exp, p.iat + 3600);
  assert.equal(p['kubernetes.io'].namespace, 'ns1');
  assert.equal(p['kubernetes.io'].serviceaccount.name, 'sa1');
  assert.equal(p['kubernetes.io'].pod.name, 'pod-1');
  assert.match(p['kubernetes.io'].pod.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    jwks_uri: string;
    id_token_signing_alg_values_supported: string[];
  };
  assert.equal(discovery.issuer, issuer.issuer);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(jwks.keys[0] ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
});

test('oidc issuer: x5c holds a certificate for the published key', async (t) => {
  const issuer = await OidcIssuer.start({ x5c: true });
  t.after(() => issuer.close());
  const { keys } = (await (await fetch(issuer.jwksUri)).json()) as {
    keys: Array<{ n: string; e: string; x5c: string[] }>;
  };
  const key = keys[0]!;
  const cert = new X509Certificate(Buffer.from(key.x5c[0]!, 'base64'));
  const certJwk = cert.publicKey.export({ format: 'jwk' });
  assert.equal(certJwk.n, key.n);
  assert.equal(
    createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }).asymmetricKeyType,
    'rsa',
  );
});
