import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  implicitBytes,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der.ts';

/**
 * X.509 v3 certificates (RFC 5280) for the JWKS `x5c`, built with node:crypto and der.ts.
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.1
 *
 * Why a CA at all: the leaf's subject key is the API server's public key, whose private half we
 * never have, so the leaf cannot be self-signed; our own CA key signs it instead.
 *
 * Why deterministic: every field is derived from the keys (serial, key identifiers, names) or
 * fixed (validity), and RSA PKCS#1 v1.5 signatures are deterministic, so every replica and every
 * restart with the same CA key serves byte-identical certificates, hence the same thumbprints
 * (what a store's OIDC provider is registered with).
 */

const OID = {
  commonName: '2.5.4.3',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** Fixed start of validity, in the past of any cluster this runs in. */
export const NOT_BEFORE = new Date(Date.UTC(2024, 0, 1));
/** "No well-defined expiration date" (RFC 5280 §4.1.2.5): the leaf lives as long as its key. */
export const NOT_AFTER = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** The CA that signs the leaves: its key, its certificate and what leaves copy from it. */
export interface CertificateAuthority {
  readonly privateKey: KeyObject;
  /** Subject CN, e.g. `sts-sidecar issuer CA 1a2b3c4d`, for logs. */
  readonly commonName: string;
  /** DER of the self-signed CA certificate. */
  readonly certificateDer: Buffer;
  /** DER of its subject Name: the issuer Name of every leaf. */
  readonly name: Buffer;
  /** Its subject key identifier: the authority key identifier of every leaf. */
  readonly keyId: Buffer;
}

const signatureAlgorithm = (): Buffer => sequence(oid(OID.sha256WithRSAEncryption), nullValue());

const spkiOf = (key: KeyObject): Buffer =>
  (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });

/** 160 bits of SHA-256 over the SubjectPublicKeyInfo: unique per key, as identifiers need. */
const keyIdOf = (spki: Buffer): Buffer => createHash('sha256').update(spki).digest().subarray(0, 20);

/**
 * A positive 128-bit serial derived from the subject key and name. The top bit is cleared (DER
 * integers are signed) and the next one set, so it always takes 16 bytes and is never zero.
 */
function serialOf(spki: Buffer, commonName: string): Buffer {
  const digest = createHash('sha256').update(spki).update('\0').update(commonName).digest();
  const serial = digest.subarray(0, 16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

const nameOf = (commonName: string): Buffer =>
  sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));

/** keyUsage bits, as DER named bit strings: trailing zero bits dropped and counted as unused. */
const KEY_USAGE_DIGITAL_SIGNATURE = bitString(Buffer.from([0x80]), 7);
const KEY_USAGE_CERT_AND_CRL_SIGN = bitString(Buffer.from([0x06]), 1);

interface TbsFields {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  extensions: Buffer[];
}

/** TBSCertificate → signed Certificate, sha256WithRSAEncryption (RSA PKCS#1 v1.5, deterministic). */
function signCertificate(fields: TbsFields, caKey: KeyObject): Buffer {
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(fields.serial),
    signatureAlgorithm(),
    fields.issuer,
    sequence(time(NOT_BEFORE), time(NOT_AFTER)),
    fields.subject,
    fields.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  return sequence(tbs, signatureAlgorithm(), bitString(sign('sha256', tbs, caKey)));
}

/**
 * The self-signed CA certificate of `privateKey` (RSA). Its name carries the start of its key
 * identifier, so the CAs of two clusters are told apart at a glance.
 */
export function createCertificateAuthority(privateKey: KeyObject): CertificateAuthority {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa')
    throw new TypeError('the CA key must be an RSA private key');
  const spki = spkiOf(privateKey);
  const keyId = keyIdOf(spki);
  const commonName = `sts-sidecar issuer CA ${keyId.subarray(0, 4).toString('hex')}`;
  const name = nameOf(commonName);
  const certificateDer = signCertificate(
    {
      serial: serialOf(spki, commonName),
      issuer: name,
      subject: name,
      spki,
      extensions: [
        extension(OID.basicConstraints, true, sequence(boolean(true))),
        extension(OID.keyUsage, true, KEY_USAGE_CERT_AND_CRL_SIGN),
        extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
      ],
    },
    privateKey,
  );
  return { privateKey, commonName, certificateDer, name, keyId };
}

/**
 * A leaf for one JWKS key: subject CN=`commonName` (the kid), subject public key = the JWK's
 * key, issued and signed by `ca`. Not a CA (basicConstraints with cA absent), digitalSignature
 * only: the key signs tokens and nothing else.
 */
export function issueLeafCertificate(
  ca: CertificateAuthority,
  subjectKey: KeyObject,
  commonName: string,
): Buffer {
  const spki = spkiOf(subjectKey);
  return signCertificate(
    {
      serial: serialOf(spki, commonName),
      issuer: ca.name,
      subject: nameOf(commonName),
      spki,
      extensions: [
        extension(OID.basicConstraints, true, sequence()),
        extension(OID.keyUsage, true, KEY_USAGE_DIGITAL_SIGNATURE),
        extension(OID.subjectKeyIdentifier, false, octetString(keyIdOf(spki))),
        extension(OID.authorityKeyIdentifier, false, sequence(implicitBytes(0, ca.keyId))),
      ],
    },
    ca.privateKey,
  );
}

/** Lower-case hex SHA-1 of a certificate's DER: the form of an OIDC provider's ThumbprintList. */
export function sha1Thumbprint(certificateDer: Buffer): string {
  return createHash('sha1').update(certificateDer).digest('hex');
}
