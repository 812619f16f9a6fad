import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ClusterIssuerDocuments } from '../kube/issuer-api.ts';
import { SidecarError } from '../shared/errors.ts';
import { type CertificateAuthority, issueLeafCertificate, sha1Thumbprint } from './certificate-builder.ts';

/** The path of the JWKS under the issuer, as the API server serves it. */
export const JWKS_PATH = '/openid/v1/jwks';

/** One served key, as /thumbprints lists it and the key-set log line names it. */
export interface PublishedKey {
  readonly kid: string;
  /**
   * Lower-case hex SHA-1 of its x5c leaf: what a store's OIDC provider ThumbprintList holds;
   * null with --x5c false (no certificate is served).
   */
  readonly thumbprint: string | null;
  /** The key the API server signs with now (first in the JWKS). */
  readonly signing: boolean;
}

/** Everything the issuer serves, encoded once per refresh. */
export interface PublishedDocuments {
  /** The API server's `issuer`. */
  readonly issuer: string;
  readonly discovery: Buffer;
  readonly jwks: Buffer;
  readonly thumbprints: Buffer;
  /** Signing key first, then the others in the API server's order. */
  readonly keys: readonly PublishedKey[];
}

/** What {@link publishDocuments} builds from. */
export interface PublishInput {
  readonly documents: ClusterIssuerDocuments;
  /** The probe's answer; undefined is allowed only with a single key. */
  readonly signingKid: string | undefined;
  readonly ca: CertificateAuthority;
  /** Add x5c (default); false serves each key as the API server gave it. */
  readonly x5c?: boolean;
}

const invalid = (message: string): SidecarError => new SidecarError('ISSUER_DOCUMENT_INVALID', message);

/** JWK members that describe another certificate than ours; dropped so nothing contradicts x5c. */
const REPLACED_MEMBERS = new Set(['x5c', 'x5t', 'x5t#S256', 'x5u']);

interface Key {
  kid: string;
  jwk: Record<string, unknown>;
  publicKey: KeyObject;
}

function readKey(value: unknown, index: number): Key {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`JWKS key #${index} is not an object.`);
  const jwk = value as Record<string, unknown>;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new SidecarError(
      'ISSUER_DOCUMENT_INVALID',
      `JWKS key #${index} (kid ${JSON.stringify(jwk.kid)}) is not a public key node:crypto can import.`,
      { cause: error },
    );
  }
  // The API server always sets kid; without one, use its own derivation so the CN is stable.
  const kid =
    typeof jwk.kid === 'string' && jwk.kid !== ''
      ? jwk.kid
      : createHash('sha256')
          .update(publicKey.export({ type: 'spki', format: 'der' }))
          .digest('base64url');
  return { kid, jwk, publicKey };
}

/**
 * The documents the stores get, from the API server's:
 * - discovery: the API server's document with `jwks_uri` = `<issuer>/openid/v1/jwks`, so a store
 *   that read discovery here fetches the JWKS here too;
 * - JWKS: every key with `x5c` = [its leaf from {@link issueLeafCertificate}], the signing key
 *   first. Ceph RGW before 18.2.8 / 19.2.3 reads only the first key and ignores `kid`, so the
 *   first key must be the one that signs current tokens (docs/design/upstream-facts.md);
 * - thumbprints: `[{kid, thumbprint, signing}]` in the same order.
 * @throws SidecarError ISSUER_DOCUMENT_INVALID (an issuer that is not a URL, a bad key, no keys,
 *   duplicate kids) or
 *   ISSUER_PROBE_FAILED (several keys and no signing kid, or one the JWKS lacks).
 */
export function publishDocuments(input: PublishInput): PublishedDocuments {
  const { discovery, jwks } = input.documents;
  const issuer = discovery.issuer as string;
  if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(issuer))
    throw invalid(
      `the API server's issuer ${JSON.stringify(issuer)} is not an http(s) URL without query; stores cannot fetch discovery from it.`,
    );
  if (jwks.keys.length === 0) throw invalid('the JWKS has no keys.');
  const keys = jwks.keys.map(readKey);
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw invalid('the JWKS lists a kid twice.');
  let signingKid = input.signingKid;
  if (signingKid === undefined) {
    if (keys.length > 1)
      throw new SidecarError(
        'ISSUER_PROBE_FAILED',
        `the JWKS has ${keys.length} keys and the signing one is unknown.`,
      );
    signingKid = keys[0]!.kid;
  }
  const signing = keys.find((k) => k.kid === signingKid);
  if (signing === undefined)
    throw new SidecarError(
      'ISSUER_PROBE_FAILED',
      `the probe token was signed with kid ${signingKid}, which the JWKS does not list (yet); retried at the next refresh.`,
    );
  const ordered = [signing, ...keys.filter((k) => k !== signing)];
  const published = ordered.map((key) => {
    const signs = key === signing;
    if (input.x5c === false) return { jwk: key.jwk, key: { kid: key.kid, thumbprint: null, signing: signs } };
    const leaf = issueLeafCertificate(input.ca, key.publicKey, key.kid);
    const jwk = Object.fromEntries(Object.entries(key.jwk).filter(([name]) => !REPLACED_MEMBERS.has(name)));
    return {
      jwk: { ...jwk, kid: key.kid, x5c: [leaf.toString('base64')] },
      key: { kid: key.kid, thumbprint: sha1Thumbprint(leaf), signing: signs },
    };
  });
  const served = { ...discovery, jwks_uri: `${issuer.replace(/\/+$/, '')}${JWKS_PATH}` };
  return {
    issuer,
    discovery: Buffer.from(JSON.stringify(served)),
    jwks: Buffer.from(JSON.stringify({ keys: published.map((p) => p.jwk) })),
    thumbprints: Buffer.from(JSON.stringify(published.map((p) => p.key))),
    keys: published.map((p) => p.key),
  };
}

/** A value that changes when a kid, a thumbprint or the signing key changes: log on change only. */
export function keySetFingerprint(keys: readonly PublishedKey[]): string {
  return keys.map((k) => `${k.kid}=${k.thumbprint}${k.signing ? '*' : ''}`).join(',');
}
