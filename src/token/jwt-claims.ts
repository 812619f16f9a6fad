import { SidecarError } from '../shared/errors.ts';
import type { TokenClaims } from './projected-token.ts';

/** RFC 7515 §2: base64url without padding. `Buffer.from(x, 'base64url')` skips bad characters, so check first. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function notJwt(problem: string): SidecarError {
  // Never include the token, a segment or decoded text: the message reaches logs.
  return new SidecarError(
    'TOKEN_NOT_JWT',
    `not a JWT: ${problem}; expected three base64url parts (header.payload.signature) with a JSON header and payload`,
  );
}

/** Decodes one segment to a JSON object, or throws naming only the segment. */
function decodeObject(segment: string, name: 'header' | 'payload'): Record<string, unknown> {
  // A length of 1 mod 4 cannot come out of base64 encoding.
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) {
    throw notJwt(`the ${name} is not base64url`);
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    // No `cause`: JSON.parse messages quote the input ("… "abc" is not valid JSON").
    throw notJwt(`the ${name} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw notJwt(`the ${name} is JSON but not an object`);
  }
  return value as Record<string, unknown>;
}

function stringClaim(payload: Record<string, unknown>, name: string): string | undefined {
  const v = payload[name];
  return typeof v === 'string' ? v : undefined;
}

/** NumericDate (RFC 7519 §2); anything else (string, NaN, Infinity) is left out, not coerced. */
function numericClaim(payload: Record<string, unknown>, name: string): number | undefined {
  const v = payload[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `aud` may be one string or an array (RFC 7519 §4.1.3); non-string entries are dropped. */
function audience(payload: Record<string, unknown>): readonly string[] {
  const aud = payload.aud;
  if (typeof aud === 'string') return Object.freeze([aud]);
  if (Array.isArray(aud)) return Object.freeze(aud.filter((a): a is string => typeof a === 'string'));
  return Object.freeze([]);
}

/** The JOSE header fields `sts-sidecar check` looks at (RFC 7515 §4.1). */
export interface JwtHeader {
  readonly alg: string;
  /** Which JWKS key signed the token; absent when the issuer does not say. */
  readonly kid?: string;
}

/**
 * Decodes the header of a JWT WITHOUT verifying it, for `sts-sidecar check` (which key in the
 * issuer's JWKS to look for).
 *
 * @throws SidecarError `TOKEN_NOT_JWT` as {@link decodeJwtClaims} does.
 */
export function decodeJwtHeader(token: string): JwtHeader {
  const parts = token.split('.');
  if (parts.length !== 3) throw notJwt(`it has ${parts.length} dot-separated part(s)`);
  const header = decodeObject(parts[0]!, 'header');
  if (typeof header.alg !== 'string') throw notJwt('the header has no "alg"');
  return Object.freeze(
    typeof header.kid === 'string' ? { alg: header.alg, kid: header.kid } : { alg: header.alg },
  );
}

/**
 * Decodes the claims of a JWT WITHOUT verifying its signature. Only for scheduling (`exp`) and
 * log fields (`iss`, `sub`, `aud`); STS does the verification. Claims of the wrong type are left
 * out rather than coerced.
 *
 * @throws SidecarError `TOKEN_NOT_JWT` when the token is not three non-empty base64url parts, or
 * the header (which must have a string `alg`) or payload is not a JSON object. The message never
 * contains the token or anything decoded from it.
 */
export function decodeJwtClaims(token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) {
    // 5 parts is a JWE (encrypted); a projected service-account token is always a JWS.
    throw notJwt(`it has ${parts.length} dot-separated part(s)`);
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeObject(headerPart, 'header');
  if (typeof header.alg !== 'string') throw notJwt('the header has no "alg"');
  const payload = decodeObject(payloadPart, 'payload');
  // An unsigned token ("alg":"none", empty signature) can never be a kubelet-issued token.
  if (signaturePart === '' || !BASE64URL.test(signaturePart)) throw notJwt('the signature is not base64url');

  const claims: {
    -readonly [K in keyof TokenClaims]: TokenClaims[K];
  } = { aud: audience(payload) };
  const iss = stringClaim(payload, 'iss');
  const sub = stringClaim(payload, 'sub');
  const exp = numericClaim(payload, 'exp');
  const iat = numericClaim(payload, 'iat');
  const nbf = numericClaim(payload, 'nbf');
  if (iss !== undefined) claims.iss = iss;
  if (sub !== undefined) claims.sub = sub;
  if (exp !== undefined) claims.exp = exp;
  if (iat !== undefined) claims.iat = iat;
  if (nbf !== undefined) claims.nbf = nbf;
  return Object.freeze(claims);
}
