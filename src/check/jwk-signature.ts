import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import type { Jwk } from './check-context.ts';

/** The outcome of verifying a JWT with one JWK. */
export type SignatureCheck =
  /** The key verifies the signature. */
  | 'valid'
  /** It does not: the token was signed by another key. */
  | 'invalid'
  /** The JWK is not a public key Node can import. */
  | 'unusable-key'
  /** An `alg` this check does not verify; the store decides. */
  | 'unsupported-alg';

// The JWS algorithms of RFC 7518 §3.1 a Kubernetes issuer can sign with (RS256 by default, ES256
// with an EC key), and how node:crypto verifies each.
const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

// Which key type each family needs: node:crypto would verify an RS256 signature with an RSA key
// even under an ES256 header (it ignores dsaEncoding for RSA), where a store refuses.
const FAMILIES: Record<string, { keyTypes: readonly string[]; options: (key: KeyObject) => VerifyKey }> = {
  RS: { keyTypes: ['rsa'], options: (key) => key },
  PS: {
    keyTypes: ['rsa', 'rsa-pss'],
    options: (key) => ({
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }),
  },
  // JWS carries the raw r||s pair (RFC 7518 §3.4), not DER.
  ES: { keyTypes: ['ec'], options: (key) => ({ key, dsaEncoding: 'ieee-p1363' }) },
};

type VerifyKey = Parameters<typeof verify>[2];

/**
 * Verifies the token's signature with `jwk`, as the store will. Used to tell "the JWKS has the
 * kid" from "the JWKS has the key that signed": after a botched key change they differ.
 */
export function verifyJwtSignature(token: string, jwk: Jwk, alg: string): SignatureCheck {
  const hash = HASHES[alg.slice(2)];
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return 'unusable-key';
  }
  const family = FAMILIES[alg.slice(0, 2)];
  if (hash === undefined || family === undefined) return 'unsupported-alg';
  if (!family.keyTypes.includes(key.asymmetricKeyType ?? '')) return 'invalid';
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const good = verify(
    hash,
    Buffer.from(`${header}.${payload}`),
    family.options(key),
    Buffer.from(signature, 'base64url'),
  );
  return good ? 'valid' : 'invalid';
}
