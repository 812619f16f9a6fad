/** Claims decoded from the projected token without verifying it: for scheduling and log fields only. */
export interface TokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  /** `aud` normalised to a list (a JWT may carry a string or an array). */
  readonly aud: readonly string[];
  /** Seconds since the epoch. */
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
}

/**
 * One read of the token file. `value` is the raw JWT (a secret: never log it); `fingerprint`
 * is a SHA-256 hex digest of it, used to notice a rotation without keeping the token itself.
 */
export interface ProjectedToken {
  readonly value: string;
  readonly claims: TokenClaims;
  readonly fingerprint: string;
}
