import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { SidecarError } from '../../src/shared/errors.ts';
import { decodeJwtClaims } from '../../src/token/jwt-claims.ts';
import type { TokenClaims } from '../../src/token/projected-token.ts';

const b64u = (text: string | Buffer) => Buffer.from(text).toString('base64url');
const json = (value: unknown) => b64u(JSON.stringify(value));

/** A JWT signed with a throwaway RSA key, shaped like a kubelet-projected token. */
function signedJwt(payload: unknown, header: unknown = { alg: 'RS256', kid: 'k1' }): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${json(header)}.${json(payload)}`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), privateKey))}`;
}

/** Decoding does not verify, so a fake signature is enough for the shape cases. */
const jwt = (payload: unknown) => `${json({ alg: 'RS256' })}.${json(payload)}.c2lnbmF0dXJl`;

const K8S_PAYLOAD = {
  aud: ['sts.minio.example'],
  exp: 1_790_000_000,
  iat: 1_789_996_400,
  nbf: 1_789_996_400,
  iss: 'https://kubernetes.default.svc.cluster.local',
  jti: '3b2f6a6e-0000-4000-8000-000000000001',
  'kubernetes.io': {
    namespace: 'team-a',
    pod: { name: 'app-0', uid: '11111111-2222-3333-4444-555555555555' },
    serviceaccount: { name: 'app', uid: '66666666-7777-8888-9999-000000000000' },
  },
  sub: 'system:serviceaccount:team-a:app',
};

const valid: { name: string; token: string; claims: TokenClaims }[] = [
  {
    name: 'k8s-shaped RS256 token',
    token: signedJwt(K8S_PAYLOAD),
    claims: {
      iss: K8S_PAYLOAD.iss,
      sub: K8S_PAYLOAD.sub,
      aud: ['sts.minio.example'],
      exp: K8S_PAYLOAD.exp,
      iat: K8S_PAYLOAD.iat,
      nbf: K8S_PAYLOAD.nbf,
    },
  },
  {
    name: 'aud as a string becomes a list',
    token: jwt({ aud: 'sts', exp: 10 }),
    claims: { aud: ['sts'], exp: 10 },
  },
  { name: 'aud as an array of two', token: jwt({ aud: ['a', 'b'] }), claims: { aud: ['a', 'b'] } },
  { name: 'no aud is an empty list', token: jwt({ sub: 's' }), claims: { sub: 's', aud: [] } },
  { name: 'non-string aud entries are dropped', token: jwt({ aud: ['a', 7, null] }), claims: { aud: ['a'] } },
  { name: 'aud of another type is an empty list', token: jwt({ aud: 42 }), claims: { aud: [] } },
  {
    name: 'numeric claims that are not numbers are left out',
    token: jwt({ exp: '1790000000', iat: null, nbf: true }),
    claims: { aud: [] },
  },
  // JSON.parse turns 1e400 into Infinity, which is not a NumericDate.
  {
    name: 'non-finite exp is left out',
    token: `${json({ alg: 'RS256' })}.${b64u('{"exp":1e400}')}.c2ln`,
    claims: { aud: [] },
  },
  { name: 'fractional exp is kept', token: jwt({ exp: 1.5 }), claims: { aud: [], exp: 1.5 } },
  { name: 'iss and sub of another type are left out', token: jwt({ iss: 1, sub: {} }), claims: { aud: [] } },
  { name: 'payload {} decodes to no claims', token: jwt({}), claims: { aud: [] } },
];

for (const c of valid) {
  test(`decodes: ${c.name}`, () => {
    assert.deepEqual(decodeJwtClaims(c.token), c.claims);
  });
}

test('decoded claims are frozen', () => {
  const claims = decodeJwtClaims(jwt({ aud: ['a'] }));
  assert.ok(Object.isFrozen(claims));
  assert.ok(Object.isFrozen(claims.aud));
});

const H = json({ alg: 'RS256' });
const P = json({ sub: 'system:serviceaccount:ns:sa' });
/**
 * Text that must not appear in any message when it sits inside a broken token. Short on purpose:
 * V8's JSON.parse quotes short inputs whole in its message ('"hunter2x" is not valid JSON').
 */
const SECRET = 'hunter2x';

const invalid: { name: string; token: string }[] = [
  { name: 'empty string', token: '' },
  { name: 'one part', token: H },
  { name: 'two parts', token: `${H}.${P}` },
  { name: 'four parts', token: `${H}.${P}.c2ln.c2ln` },
  { name: 'five parts (JWE)', token: `${H}.${P}.c2ln.c2ln.c2ln` },
  { name: 'empty header', token: `.${P}.c2ln` },
  { name: 'empty payload', token: `${H}..c2ln` },
  { name: 'empty signature (alg none)', token: `${json({ alg: 'none' })}.${P}.` },
  { name: 'header with non-base64url characters', token: `${H}+/.${P}.c2ln` },
  { name: 'payload with padding', token: `${H}.${Buffer.from('{"a":1}').toString('base64')}.c2ln` },
  { name: 'payload with a space', token: `${H}.${P} .c2ln` },
  { name: 'payload length 1 mod 4', token: `${H}.${P}A.c2ln` },
  { name: 'signature with non-base64url characters', token: `${H}.${P}.c2l*` },
  { name: 'payload not JSON', token: `${H}.${b64u(SECRET)}.c2ln` },
  { name: 'payload truncated JSON', token: `${H}.${b64u(`{"sub":"${SECRET}"`)}.c2ln` },
  { name: 'payload not UTF-8', token: `${H}.${b64u(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}.c2ln` },
  { name: 'payload is a JSON array', token: `${H}.${json([SECRET])}.c2ln` },
  { name: 'payload is a JSON string', token: `${H}.${json(SECRET)}.c2ln` },
  { name: 'payload is JSON null', token: `${H}.${json(null)}.c2ln` },
  { name: 'header not JSON', token: `${b64u(SECRET)}.${P}.c2ln` },
  { name: 'header is a JSON array', token: `${json(['RS256'])}.${P}.c2ln` },
  { name: 'header without alg', token: `${json({ typ: 'JWT' })}.${P}.c2ln` },
  { name: 'an opaque (non-JWT) bearer token', token: `sha256~${SECRET}` },
];

/** Every message and cause message in the chain. */
function allText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    parts.push(String(e), e instanceof Error ? (e.stack ?? '') : '');
    if (!(e instanceof Error)) break;
  }
  return parts.join('\n');
}

for (const c of invalid) {
  test(`rejects as TOKEN_NOT_JWT: ${c.name}`, () => {
    let caught: unknown;
    assert.throws(
      () => decodeJwtClaims(c.token),
      (err) => {
        caught = err;
        return err instanceof SidecarError && err.code === 'TOKEN_NOT_JWT';
      },
    );
    const text = allText(caught);
    assert.ok(!text.includes(SECRET), 'decoded text leaked into the error');
    for (const segment of c.token.split('.').filter((s) => s.length >= 4)) {
      assert.ok(!text.includes(segment), `token segment leaked into the error: ${c.name}`);
    }
  });
}
