import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { test } from 'node:test';
import { verifyJwtSignature } from '../../src/check/jwk-signature.ts';

function jwt(alg: string, key: KeyObject, options: Record<string, unknown> = {}): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc({ alg, kid: 'k' })}.${enc({ sub: 's' })}`;
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  return `${input}.${sign(hash, Buffer.from(input), { key, ...options }).toString('base64url')}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (k: KeyObject) => k.export({ format: 'jwk' }) as Record<string, unknown>;

const SIGNATURES: Array<{
  name: string;
  token: string;
  jwk: Record<string, unknown>;
  alg: string;
  want: string;
}> = [
  {
    name: 'RS256',
    token: jwt('RS256', rsa.privateKey),
    jwk: jwk(rsa.publicKey),
    alg: 'RS256',
    want: 'valid',
  },
  {
    name: 'PS384',
    token: jwt('PS384', rsa.privateKey, { padding: 6, saltLength: -1 }),
    jwk: jwk(rsa.publicKey),
    alg: 'PS384',
    want: 'valid',
  },
  {
    name: 'ES256 (raw r||s)',
    token: jwt('ES256', ec.privateKey, { dsaEncoding: 'ieee-p1363' }),
    jwk: jwk(ec.publicKey),
    alg: 'ES256',
    want: 'valid',
  },
  {
    name: 'RS256 by another key',
    token: jwt('RS256', other.privateKey),
    jwk: jwk(rsa.publicKey),
    alg: 'RS256',
    want: 'invalid',
  },
  {
    name: 'an RS256 header over an EC key',
    token: jwt('RS256', rsa.privateKey),
    jwk: jwk(ec.publicKey),
    alg: 'ES256',
    want: 'invalid',
  },
  {
    // node:crypto alone would say valid: it ignores dsaEncoding for an RSA key.
    name: 'an ES256 header over an RSA key',
    token: jwt('RS256', rsa.privateKey),
    jwk: jwk(rsa.publicKey),
    alg: 'ES256',
    want: 'invalid',
  },
  {
    name: 'EdDSA is left to the store',
    token: jwt('EdDSA', ed.privateKey),
    jwk: jwk(ed.publicKey),
    alg: 'EdDSA',
    want: 'unsupported-alg',
  },
  {
    name: 'HS256 is left to the store',
    token: jwt('RS256', rsa.privateKey),
    jwk: jwk(rsa.publicKey),
    alg: 'HS256',
    want: 'unsupported-alg',
  },
  {
    name: 'a JWK without n',
    token: jwt('RS256', rsa.privateKey),
    jwk: { kty: 'RSA', e: 'AQAB' },
    alg: 'RS256',
    want: 'unusable-key',
  },
];
for (const c of SIGNATURES)
  test(`verifyJwtSignature: ${c.name} → ${c.want}`, () => {
    assert.equal(verifyJwtSignature(c.token, c.jwk, c.alg), c.want);
  });
