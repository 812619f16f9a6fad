import { isSidecarError } from '../shared/errors.ts';
import { decodeJwtHeader } from '../token/jwt-claims.ts';
import { TokenSource } from '../token/token-source.ts';
import type { CheckContext } from './check-context.ts';
import { fail, ok, type Outcome, skip, type Step } from './check-step.ts';

/** The fix for each failure of the token file; TokenSource's messages already name the file. */
const TOKEN_FIXES: Record<string, string> = {
  TOKEN_FILE_MISSING:
    'Mount the projected serviceAccountToken volume (the webhook does) and point --token-file / STS_SIDECAR_TOKEN_FILE at its file.',
  TOKEN_FILE_EMPTY: 'Wait for the kubelet to write the token, or point --token-file at the right file.',
  TOKEN_FILE_UNREADABLE:
    "Make the file readable by this user (the volume's defaultMode and the container's runAsUser).",
  TOKEN_NOT_JWT: 'Point --token-file at a projected service-account token (a JWT), not another secret.',
  TOKEN_EXPIRED:
    "The kubelet rotates the token before it expires: check that it runs, and this node's clock (timedatectl).",
};

/** The token file is readable, holds a JWT, and has not expired. */
export const tokenStep: Step<CheckContext> = {
  name: 'token',
  async run(context) {
    const file = context.config.sidecar.tokenFile;
    let token: Awaited<ReturnType<TokenSource['read']>>;
    try {
      token = await new TokenSource({ tokenFile: file, now: context.now }).read();
    } catch (error) {
      if (!isSidecarError(error)) throw error;
      return fail(error.code, error.message, TOKEN_FIXES[error.code]);
    }
    const { claims } = token;
    const header = decodeJwtHeader(token.value);
    context.token = { value: token.value, claims, header };
    const expiry =
      claims.exp === undefined
        ? 'without exp'
        : `expiring ${new Date(claims.exp * 1000).toISOString()} (in ${Math.round(claims.exp - context.now() / 1000)} s)`;
    return ok(`${file} holds a JWT for ${claims.sub ?? '(no sub)'}, ${expiry}`, {
      file,
      iss: claims.iss ?? null,
      sub: claims.sub ?? null,
      aud: claims.aud,
      exp: claims.exp ?? null,
      alg: header.alg,
      kid: header.kid ?? null,
    });
  },
};

/** The token's `aud` holds the client ID the store expects (--audience), when one is given. */
export const audienceStep: Step<CheckContext> = {
  name: 'audience',
  async run(context): Promise<Outcome> {
    const aud = context.token!.claims.aud;
    const expected = context.config.audience;
    const seen = aud.length === 0 ? 'empty' : aud.join(', ');
    if (expected === undefined)
      return skip(`not compared (no --audience); the token's aud is ${seen}`, { aud });
    if (aud.includes(expected)) return ok(`the token's aud (${seen}) holds ${expected}`, { aud, expected });
    return fail(
      'CHECK_AUDIENCE_MISMATCH',
      `the token's aud is ${seen}, but the store expects ${expected} (--audience); it refuses tokens for another audience`,
      undefined,
      { aud, expected },
    );
  },
};
