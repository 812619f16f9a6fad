import { boundedGet, GetFailure } from './bounded-get.ts';
import type { CheckContext, Jwk } from './check-context.ts';
import { fail, ok, type Outcome, skip, type Step } from './check-step.ts';
import { verifyJwtSignature } from './jwk-signature.ts';
import { rgwNeedsX5c } from './rgw-versions.ts';

/** A discovery document is well under 4 KiB; a JWKS with x5c chains for a few keys, some 20 KiB. */
const MAX_DISCOVERY_BYTES = 64 * 1024;
const MAX_JWKS_BYTES = 256 * 1024;
/**
 * The JWKS media type (RFC 7517 §8.5) first: kube-apiserver offers its JWKS only as
 * application/jwk-set+json and answers 406 to application/json alone (seen on v1.37.2, in the
 * pod, by the kube e2e); other issuers serve application/json.
 */
const JWKS_ACCEPT = 'application/jwk-set+json, application/json';

/** `<iss>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4). */
export function discoveryUrl(iss: string): string {
  return `${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** GETs a JSON object from the issuer's side, or says why not as a failed step. */
async function getIssuerJson(
  context: CheckContext,
  url: string,
  maxBodyBytes: number,
  accept?: string,
): Promise<{ json: Record<string, unknown> } | { failed: Outcome }> {
  let res;
  try {
    res = await boundedGet(url, {
      ca: context.issuerCa,
      timeoutMs: context.config.sidecar.stsTimeoutMs,
      maxBodyBytes,
      now: context.now,
      accept,
    });
  } catch (error) {
    if (!(error instanceof GetFailure)) throw error;
    const details = { url, error: error.code ?? error.kind };
    if (error.kind === 'tls')
      return {
        failed: fail(
          'CHECK_ISSUER_TLS_UNTRUSTED',
          `TLS to ${url} failed: ${error.message}`,
          undefined,
          details,
        ),
      };
    if (error.kind === 'too-large')
      return {
        failed: fail('CHECK_ISSUER_DOCUMENT_INVALID', `GET ${url}: ${error.message}`, undefined, details),
      };
    return {
      failed: fail('CHECK_ISSUER_UNREACHABLE', `GET ${url} from here: ${error.message}`, undefined, details),
    };
  }
  if (res.status !== 200) {
    const anonymous =
      res.status === 401 || res.status === 403
        ? ': it wants credentials, and stores fetch it anonymously'
        : '';
    return {
      failed: fail(
        'CHECK_ISSUER_UNREACHABLE',
        `GET ${url} answered HTTP ${res.status}${anonymous}`,
        undefined,
        {
          url,
          httpStatus: res.status,
        },
      ),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return {
      failed: fail('CHECK_ISSUER_DOCUMENT_INVALID', `GET ${url}: the body is not a JSON object`, undefined, {
        url,
      }),
    };
  return { json: json as Record<string, unknown> };
}

/** The issuer's discovery document is reachable from here and names the token's `iss`. */
export const issuerStep: Step<CheckContext> = {
  name: 'issuer',
  async run(context) {
    const iss = context.token!.claims.iss;
    if (iss === undefined)
      return fail(
        'CHECK_ISSUER_MISMATCH',
        'the token has no iss claim: a store finds the issuer and its keys by it',
      );
    const url = discoveryUrl(iss);
    const got = await getIssuerJson(context, url, MAX_DISCOVERY_BYTES);
    if ('failed' in got) return got.failed;
    const { issuer, jwks_uri: jwksUri } = got.json;
    if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri))
      return fail('CHECK_ISSUER_DOCUMENT_INVALID', `${url} has no http(s) jwks_uri`, undefined, { url });
    // OpenID Connect Discovery 1.0 §4.3: `issuer` MUST be identical to the URL the document was
    // fetched for, and to the `iss` of the tokens; the stores compare them as strings.
    if (issuer !== iss)
      return fail(
        'CHECK_ISSUER_MISMATCH',
        `${url} names issuer ${JSON.stringify(issuer)}, but the token's iss is ${JSON.stringify(iss)}`,
        undefined,
        { url, iss, issuer: typeof issuer === 'string' ? issuer : null },
      );
    context.jwksUri = jwksUri;
    return ok(`${url} is reachable from here and names the token's issuer`, { url, iss, jwksUri });
  },
};

/** The JWKS holds a key with the token's `kid`, and that key verifies the token. */
export const jwksStep: Step<CheckContext> = {
  name: 'jwks',
  async run(context) {
    const url = context.jwksUri!;
    const { header } = context.token!;
    const got = await getIssuerJson(context, url, MAX_JWKS_BYTES, JWKS_ACCEPT);
    if ('failed' in got) return got.failed;
    const keys = got.json.keys;
    if (!Array.isArray(keys))
      return fail(
        'CHECK_ISSUER_DOCUMENT_INVALID',
        `${url} is not a JWKS: it has no "keys" array`,
        undefined,
        { url },
      );
    const jwks = keys.filter((k): k is Jwk => typeof k === 'object' && k !== null);
    const kids = jwks.map((k) => (typeof k.kid === 'string' ? k.kid : '(none)'));
    if (header.kid === undefined)
      return fail(
        'CHECK_JWKS_NO_KID',
        "the token's header has no kid, so the store cannot pick its key",
        undefined,
        {
          url,
          kids,
        },
      );
    const jwk = jwks.find((k) => k.kid === header.kid);
    if (jwk === undefined)
      return fail(
        'CHECK_JWKS_NO_KID',
        `the JWKS at ${url} has no key ${header.kid} (it has ${kids.join(', ') || 'no keys'}): the token was signed by a key the issuer does not publish`,
        undefined,
        { url, kid: header.kid, kids },
      );
    const signature = verifyJwtSignature(context.token!.value, jwk, header.alg);
    const details = { url, kid: header.kid, alg: header.alg, signature };
    if (signature === 'unusable-key')
      return fail(
        'CHECK_ISSUER_DOCUMENT_INVALID',
        `key ${header.kid} at ${url} is not a usable public key`,
        undefined,
        details,
      );
    if (signature === 'invalid')
      return fail(
        'CHECK_TOKEN_SIGNATURE_INVALID',
        `key ${header.kid} at ${url} does not verify the token's ${header.alg} signature`,
        undefined,
        details,
      );
    context.jwk = jwk;
    const verified = signature === 'valid' ? 'verifies the token' : `(${header.alg} not verified here)`;
    return ok(`the JWKS at ${url} has key ${header.kid}, which ${verified}`, details);
  },
};

/** Flavor rgw: the signing key carries `x5c`, unless --rgw-version says the store does without. */
export const x5cStep: Step<CheckContext> = {
  name: 'x5c',
  async run(context) {
    const { flavor } = context.config.sidecar;
    if (flavor !== 'rgw') return skip(`not needed: only Ceph RGW needs x5c (flavor ${flavor})`);
    const kid = String(context.jwk!.kid);
    const x5c = context.jwk!.x5c;
    const version = context.config.rgwVersion;
    if (Array.isArray(x5c) && x5c.length > 0 && typeof x5c[0] === 'string')
      return ok(
        `key ${kid} carries x5c (${x5c.length} certificate(s)), as RGW before 18.2.8 / 19.2.3 needs`,
        { kid },
      );
    if (version !== undefined && !rgwNeedsX5c(version))
      return ok(`key ${kid} has no x5c; RGW ${version} verifies it without (--rgw-version)`, {
        kid,
        rgwVersion: version,
      });
    const which = version === undefined ? '' : ` (--rgw-version ${version})`;
    return fail(
      'CHECK_JWKS_NO_X5C',
      `the JWKS at ${context.jwksUri} has no x5c on key ${kid}; Ceph RGW before 18.2.8 (Reef) / 19.2.3 (Squid) refuses it${which}`,
      "Deploy `sts-sidecar issuer` (chart value issuer.enabled) and point the API server's --service-account-issuer at it; " +
        (version === undefined
          ? 'if the store runs RGW 18.2.8 / 19.2.3 or later, pass --rgw-version <version>.'
          : 'or upgrade RGW to 18.2.8 / 19.2.3 or later.'),
      { kid, rgwVersion: version ?? null },
    );
  },
};
