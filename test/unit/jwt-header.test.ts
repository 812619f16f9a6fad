import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJwtHeader } from '../../src/token/jwt-claims.ts';

const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const SIG = 'c2lnbmF0dXJl';

const CASES: Array<{ name: string; token: string; want: object | RegExp }> = [
  {
    name: 'alg and kid',
    token: `${part({ alg: 'RS256', kid: 'k1' })}.${part({})}.${SIG}`,
    want: { alg: 'RS256', kid: 'k1' },
  },
  { name: 'no kid', token: `${part({ alg: 'ES256' })}.${part({})}.${SIG}`, want: { alg: 'ES256' } },
  {
    name: 'a non-string kid is left out',
    token: `${part({ alg: 'RS256', kid: 7 })}.${part({})}.${SIG}`,
    want: { alg: 'RS256' },
  },
  {
    name: 'two parts',
    token: `${part({ alg: 'RS256' })}.${part({})}`,
    want: /it has 2 dot-separated part\(s\)/,
  },
  { name: 'no alg', token: `${part({ kid: 'k1' })}.${part({})}.${SIG}`, want: /the header has no "alg"/ },
];

for (const c of CASES)
  test(`decodeJwtHeader: ${c.name}`, () => {
    if (c.want instanceof RegExp)
      assert.throws(() => decodeJwtHeader(c.token), { code: 'TOKEN_NOT_JWT', message: c.want });
    else assert.deepEqual(decodeJwtHeader(c.token), c.want);
  });
