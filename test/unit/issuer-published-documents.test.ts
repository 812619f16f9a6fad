// src/issuer/published-documents.ts: what stores get from the API server's documents. RGW before
// 18.2.8 / 19.2.3 reads only the first JWKS key, so the order is the feature.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createCertificateAuthority, sha1Thumbprint } from '../../src/issuer/certificate-builder.ts';
import { keySetFingerprint, publishDocuments } from '../../src/issuer/published-documents.ts';
import type { ClusterIssuerDocuments } from '../../src/kube/issuer-api.ts';
import { isSidecarError } from '../../src/shared/errors.ts';

const ca = createCertificateAuthority(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const caCert = new X509Certificate(ca.certificateDer);
const ISSUER = 'https://issuer.example/cluster-a';

function jwk(kid: string | undefined): Record<string, unknown> {
  const { n, e } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  return { use: 'sig', kty: 'RSA', ...(kid === undefined ? {} : { kid }), alg: 'RS256', n, e };
}

function docs(keys: unknown[], discovery: Record<string, unknown> = {}): ClusterIssuerDocuments {
  return {
    discovery: {
      issuer: ISSUER,
      jwks_uri: 'https://10.0.0.1:6443/openid/v1/jwks',
      response_types_supported: ['id_token'],
      ...discovery,
    },
    jwks: { keys },
  };
}

const parse = (b: Buffer): unknown => JSON.parse(b.toString('utf8'));
type Jwk = Record<string, unknown> & { kid: string; x5c: string[] };

test('every key gets x5c = [its leaf], the signing key first, the others in API order', () => {
  const keys = [jwk('a'), jwk('b'), jwk('c')];
  const out = publishDocuments({ documents: docs(keys), signingKid: 'b', ca });
  const served = (parse(out.jwks) as { keys: Jwk[] }).keys;
  assert.deepEqual(
    served.map((k) => k.kid),
    ['b', 'a', 'c'],
  );
  for (const k of served) {
    const original = keys.find((o) => o.kid === k.kid)!;
    assert.equal(k.x5c.length, 1, 'exactly [leaf]: RGW verifies with the last certificate of x5c');
    const leaf = new X509Certificate(Buffer.from(k.x5c[0]!, 'base64'));
    assert.ok(leaf.publicKey.equals(createPublicKey({ key: original as never, format: 'jwk' })));
    assert.ok(leaf.verify(caCert.publicKey));
    assert.deepEqual({ ...k, x5c: undefined }, { ...original, x5c: undefined }, 'the JWK members are kept');
  }
  assert.deepEqual(
    out.keys.map((k) => [k.kid, k.signing]),
    [
      ['b', true],
      ['a', false],
      ['c', false],
    ],
  );
  assert.deepEqual(parse(out.thumbprints), out.keys);
  for (const [i, k] of out.keys.entries())
    assert.equal(k.thumbprint, sha1Thumbprint(Buffer.from(served[i]!.x5c[0]!, 'base64')));
});

test('discovery: the API server document with jwks_uri under the issuer', () => {
  const out = publishDocuments({
    documents: docs([jwk('a')], { claims_supported: ['sub'] }),
    signingKid: undefined,
    ca,
  });
  assert.deepEqual(parse(out.discovery), {
    issuer: ISSUER,
    jwks_uri: `${ISSUER}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    claims_supported: ['sub'],
  });
  assert.equal(out.issuer, ISSUER);
  const trailing = publishDocuments({
    documents: docs([jwk('a')], { issuer: 'https://x.example/' }),
    signingKid: undefined,
    ca,
  });
  assert.equal(
    (parse(trailing.discovery) as { jwks_uri: string }).jwks_uri,
    'https://x.example/openid/v1/jwks',
  );
});

test('a single key needs no probe; x5c members of another certificate are replaced', () => {
  const key = { ...jwk('only'), x5c: ['AAAA'], x5t: 'old', 'x5t#S256': 'old' };
  const out = publishDocuments({ documents: docs([key]), signingKid: undefined, ca });
  const [served] = (parse(out.jwks) as { keys: Jwk[] }).keys;
  assert.equal(served!.x5t, undefined);
  assert.equal(served!['x5t#S256'], undefined);
  assert.notEqual(served!.x5c[0], 'AAAA');
  assert.deepEqual(out.keys, [{ kid: 'only', thumbprint: out.keys[0]!.thumbprint, signing: true }]);
});

test('a key without kid gets the API server derivation (base64url SHA-256 of its SPKI)', () => {
  const key = jwk(undefined);
  const spki = createPublicKey({ key: key as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  const out = publishDocuments({ documents: docs([key]), signingKid: undefined, ca });
  assert.equal(out.keys[0]!.kid, createHash('sha256').update(spki).digest('base64url'));
});

const refused: Array<[string, () => unknown, string, RegExp]> = [
  [
    'an issuer that is not a URL',
    () =>
      publishDocuments({
        documents: docs([jwk('a')], { issuer: 'kubernetes/serviceaccount' }),
        signingKid: undefined,
        ca,
      }),
    'ISSUER_DOCUMENT_INVALID',
    /"kubernetes\/serviceaccount" is not an http\(s\) URL/,
  ],
  [
    'an issuer with a query',
    () =>
      publishDocuments({
        documents: docs([jwk('a')], { issuer: 'https://x.example/?a=b' }),
        signingKid: undefined,
        ca,
      }),
    'ISSUER_DOCUMENT_INVALID',
    /not an http\(s\) URL/,
  ],
  [
    'no keys',
    () => publishDocuments({ documents: docs([]), signingKid: undefined, ca }),
    'ISSUER_DOCUMENT_INVALID',
    /no keys/,
  ],
  [
    'a key that is not an object',
    () => publishDocuments({ documents: docs(['x']), signingKid: undefined, ca }),
    'ISSUER_DOCUMENT_INVALID',
    /#0 is not an object/,
  ],
  [
    'a key node cannot import',
    () =>
      publishDocuments({ documents: docs([{ kty: 'RSA', kid: 'bad', n: 'AQ' }]), signingKid: undefined, ca }),
    'ISSUER_DOCUMENT_INVALID',
    /"bad"/,
  ],
  [
    'a kid listed twice',
    () => publishDocuments({ documents: docs([jwk('a'), jwk('a')]), signingKid: 'a', ca }),
    'ISSUER_DOCUMENT_INVALID',
    /twice/,
  ],
  [
    'several keys and no probe answer',
    () => publishDocuments({ documents: docs([jwk('a'), jwk('b')]), signingKid: undefined, ca }),
    'ISSUER_PROBE_FAILED',
    /2 keys/,
  ],
  [
    'a signing kid the JWKS lacks',
    () => publishDocuments({ documents: docs([jwk('a'), jwk('b')]), signingKid: 'z', ca }),
    'ISSUER_PROBE_FAILED',
    /kid z/,
  ],
];
for (const [name, run, code, message] of refused)
  test(`refused: ${name} (${code})`, () =>
    assert.throws(run, (e: unknown) => isSidecarError(e) && e.code === code && message.test(e.message)));

test('the key-set fingerprint changes with a kid, a thumbprint or the signing key', () => {
  const base = [
    { kid: 'a', thumbprint: '1', signing: true },
    { kid: 'b', thumbprint: '2', signing: false },
  ];
  const f = keySetFingerprint(base);
  assert.equal(keySetFingerprint(base.map((k) => ({ ...k }))), f);
  assert.notEqual(keySetFingerprint([{ ...base[0]!, kid: 'c' }, base[1]!]), f);
  assert.notEqual(keySetFingerprint([{ ...base[0]!, thumbprint: '3' }, base[1]!]), f);
  assert.notEqual(
    keySetFingerprint([
      { ...base[1]!, signing: true },
      { ...base[0]!, signing: false },
    ]),
    f,
  );
});

test('x5c false: the keys as the API server gave them, still signing key first, no thumbprints', () => {
  const keys = [jwk('a'), jwk('b')];
  const out = publishDocuments({ documents: docs(keys), signingKid: 'b', ca, x5c: false });
  const served = (parse(out.jwks) as { keys: Array<Record<string, unknown>> }).keys;
  assert.deepEqual(served, [keys[1], keys[0]], 'unchanged members, no x5c, signing key first');
  assert.deepEqual(parse(out.thumbprints), [
    { kid: 'b', thumbprint: null, signing: true },
    { kid: 'a', thumbprint: null, signing: false },
  ]);
});
