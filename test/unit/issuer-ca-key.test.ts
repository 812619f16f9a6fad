// src/issuer/ca-key.ts: the CA key file is read once at start; anything but an unencrypted RSA
// key of 2048 bits or more is a fatal ISSUER_CA_KEY_INVALID naming the file, never its content.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCertificateAuthority } from '../../src/issuer/ca-key.ts';
import { isSidecarError } from '../../src/shared/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sts-issuer-ca-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const rsa = (bits: number, type: 'pkcs1' | 'pkcs8' = 'pkcs8') =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type, format: 'pem' }) as string;

test('an RSA key in PKCS#1 (what Helm genPrivateKey writes) or PKCS#8 gives the same CA every time', async () => {
  const pkcs1 = rsa(2048, 'pkcs1');
  const a = await loadCertificateAuthority(file('pkcs1.key', pkcs1));
  const b = await loadCertificateAuthority(file('pkcs1-again.key', pkcs1));
  assert.ok(a.certificateDer.equals(b.certificateDer));
  await loadCertificateAuthority(file('pkcs8.key', rsa(3072)));
});

const secretText = 'NOT-A-KEY-c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;
const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
  cipher: 'aes-256-cbc',
  passphrase: 'pass',
}) as string;
const cases: Array<[string, () => string, RegExp]> = [
  [
    'missing',
    () => join(dir, 'absent.key'),
    /cannot read the CA key .*absent\.key \(ENOENT\); mount the issuer's CA key Secret/,
  ],
  ['a directory', () => dir, /cannot read the CA key .* \(EISDIR\)/],
  ['not PEM', () => file('text.key', secretText), /text\.key is not an unencrypted PEM private key/],
  ['encrypted', () => file('encrypted.key', encrypted), /is not an unencrypted PEM private key/],
  ['EC', () => file('ec.key', ec), /holds a ec key; the CA key must be RSA of at least 2048 bits/],
  ['RSA 1024', () => file('small.key', rsa(1024)), /holds a rsa key of 1024 bits/],
  ['too large', () => file('large.key', 'x'.repeat(70 * 1024)), /cannot read the CA key .* \(EFBIG\)/],
];
for (const [name, path, message] of cases)
  test(`refused: ${name}`, async () => {
    await assert.rejects(loadCertificateAuthority(path()), (e: unknown) => {
      assert.ok(isSidecarError(e) && e.code === 'ISSUER_CA_KEY_INVALID' && e.retry === 'fatal');
      assert.match(e.message, message);
      assert.equal(e.message.includes(secretText), false);
      assert.equal(e.message.includes('PRIVATE KEY'), false);
      return true;
    });
  });
