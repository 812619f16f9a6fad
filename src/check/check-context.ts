import { getCACertificates } from 'node:tls';
import type { CheckConfig } from '../config/check-config.ts';
import type { JwtHeader } from '../token/jwt-claims.ts';
import type { TokenClaims } from '../token/projected-token.ts';
import type { BoundedGetResponse } from './bounded-get.ts';

/** A JWK as the issuer published it (RFC 7517): only read, never printed whole. */
export type Jwk = Readonly<Record<string, unknown>>;

/**
 * What the steps learn and hand to the steps after them. Filled in order; a step only runs when
 * every step before it held (check-step.ts runSteps), so it may rely on what they set.
 */
export interface CheckContext {
  readonly config: CheckConfig;
  /** Wall clock in ms since the epoch. */
  readonly now: () => number;
  /** CAs trusted for the issuer's discovery document and JWKS. */
  readonly issuerCa: readonly string[];
  /** The projected token: `value` is a secret, kept for the trial exchange and never printed. */
  token?: { readonly value: string; readonly claims: TokenClaims; readonly header: JwtHeader };
  /** From the discovery document. */
  jwksUri?: string;
  /** The JWKS key whose `kid` is the token's. */
  jwk?: Jwk;
  /** The STS endpoint's answer to a plain GET: proof it answers, and its Date header. */
  stsProbe?: BoundedGetResponse;
}

/**
 * The CAs the issuer's certificate is checked against: Node's built-in list, the operating
 * system's store, and --issuer-ca-file. The system store is there because that is what the
 * stores trust (RGW fetches the JWKS with libcurl, which verifies against it; .ci/peers/ceph.sh),
 * so an issuer the check trusts is one the store can trust too.
 */
export function issuerTrust(config: CheckConfig): readonly string[] {
  const all = new Set([...getCACertificates('default'), ...getCACertificates('system')]);
  if (config.issuerCaPem !== undefined) all.add(config.issuerCaPem);
  return [...all];
}

/** The context for one run of the check. */
export function createCheckContext(config: CheckConfig, now: () => number = Date.now): CheckContext {
  return { config, now, issuerCa: issuerTrust(config) };
}
