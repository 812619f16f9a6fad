import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SidecarError } from '../shared/errors.ts';
import { readFileAtMost } from '../shared/read-bounded-file.ts';
import { type CertificateAuthority, createCertificateAuthority } from './certificate-builder.ts';

/** A PEM RSA key of 8192 bits is about 6.5 KiB; more is not a key file. */
const MAX_CA_KEY_BYTES = 64 * 1024;
/** The smallest RSA modulus accepted for the CA key. */
export const MIN_CA_KEY_BITS = 2048;

const invalid = (message: string, cause?: unknown): SidecarError =>
  new SidecarError('ISSUER_CA_KEY_INVALID', message, { cause });

/**
 * Reads the CA key (an unencrypted PEM RSA private key, PKCS#1 or PKCS#8) and builds the CA from
 * it. Read once at start: a new CA key changes every thumbprint, which the stores' OIDC providers
 * must be told about anyway, so it takes a rollout rather than a silent reload. Messages name the
 * file, never its content. @throws SidecarError ISSUER_CA_KEY_INVALID
 */
export async function loadCertificateAuthority(file: string): Promise<CertificateAuthority> {
  let pem: string;
  try {
    pem = await readFileAtMost(file, MAX_CA_KEY_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw invalid(`cannot read the CA key ${file} (${code}); mount the issuer's CA key Secret there.`, error);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw invalid(`${file} is not an unencrypted PEM private key.`, error);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_CA_KEY_BITS)
    throw invalid(
      `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key${bits > 0 ? ` of ${bits} bits` : ''}; the CA key must be RSA of at least ${MIN_CA_KEY_BITS} bits (sha256WithRSAEncryption signatures are deterministic, so every replica serves the same certificates).`,
    );
  return createCertificateAuthority(key);
}
