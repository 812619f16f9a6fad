// src/issuer/certificate-builder.ts: the certificates parse as X.509 (node's X509Certificate, i.e.
// OpenSSL), chain to the CA, carry the JWK's key, and come out byte-identical from the same keys.
import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { test } from 'node:test';
import {
  createCertificateAuthority,
  issueLeafCertificate,
  NOT_AFTER,
  NOT_BEFORE,
  sha1Thumbprint,
} from '../../src/issuer/certificate-builder.ts';

const caKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ca = createCertificateAuthority(caKey);
const caCert = new X509Certificate(ca.certificateDer);

/** A public key as it arrives in a JWKS: exported to a JWK and imported back. */
const viaJwk = (key: KeyObject): KeyObject =>
  createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' });

test('the CA certificate: self-signed CA, named after its key, valid from the fixed date to 9999', () => {
  assert.equal(caCert.ca, true);
  assert.ok(caCert.verify(caCert.publicKey), 'self-signature verifies');
  assert.ok(caCert.checkIssued(caCert));
  assert.equal(caCert.subject, `CN=${ca.commonName}`);
  assert.match(ca.commonName, /^sts-sidecar issuer CA [0-9a-f]{8}$/);
  assert.ok(caCert.publicKey.equals(createPublicKey(caKey)));
  assert.equal(Date.parse(caCert.validFrom), NOT_BEFORE.getTime());
  assert.equal(Date.parse(caCert.validTo), NOT_AFTER.getTime());
  assert.match(caCert.serialNumber, /^[4-7][0-9A-F]{31}$/, 'positive, 16 bytes');
});

const subjects: Array<[string, KeyObject]> = [
  ['RSA 2048 (the API server default)', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
  ['RSA 4096', generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey],
  ['EC P-256 (an ES256 signing key)', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
];
for (const [name, subject] of subjects)
  test(`leaf for ${name}: subject key = the JWK's, CN = kid, issued and signed by the CA`, () => {
    const der = issueLeafCertificate(ca, viaJwk(subject), 'kid-abc');
    const leaf = new X509Certificate(der);
    assert.ok(leaf.publicKey.equals(subject), 'subject public key is the JWK key');
    assert.equal(leaf.subject, 'CN=kid-abc');
    assert.equal(leaf.issuer, caCert.subject);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(caCert.publicKey), 'the CA signature verifies');
    assert.ok(leaf.checkIssued(caCert), 'names and key identifiers chain to the CA');
    assert.equal(leaf.validTo, caCert.validTo);
    assert.equal(sha1Thumbprint(der), leaf.fingerprint.replaceAll(':', '').toLowerCase());
  });

test('byte-identical across builds: same CA key and JWK give the same CA, leaf and thumbprint', () => {
  const jwkKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  // The same key re-read from PEM, as a restarted or second replica gets it.
  const again = createCertificateAuthority(createPrivateKey(caKey.export({ type: 'pkcs1', format: 'pem' })));
  assert.ok(again.certificateDer.equals(ca.certificateDer));
  const a = issueLeafCertificate(ca, viaJwk(jwkKey), 'k1');
  const b = issueLeafCertificate(again, viaJwk(jwkKey), 'k1');
  assert.ok(a.equals(b));
  assert.equal(sha1Thumbprint(a), sha1Thumbprint(b));
});

test('another CA key, another kid or another key: another thumbprint', () => {
  const jwkKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const base = sha1Thumbprint(issueLeafCertificate(ca, jwkKey, 'k1'));
  const otherCa = createCertificateAuthority(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  assert.notEqual(sha1Thumbprint(issueLeafCertificate(otherCa, jwkKey, 'k1')), base);
  assert.notEqual(sha1Thumbprint(issueLeafCertificate(ca, jwkKey, 'k2')), base);
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  assert.notEqual(sha1Thumbprint(issueLeafCertificate(ca, otherKey, 'k1')), base);
  assert.match(base, /^[0-9a-f]{40}$/);
});

test('the CA key must be an RSA private key', () => {
  assert.throws(
    () => createCertificateAuthority(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    TypeError,
  );
  assert.throws(() => createCertificateAuthority(createPublicKey(caKey)), TypeError);
});
