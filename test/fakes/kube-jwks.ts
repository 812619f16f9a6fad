// What a Kubernetes API server's JWKS looks like on the wire, for every fake that plays one
// (test/fakes/fake-cluster-issuer.ts, test/fakes/oidc-issuer.ts and tests serving raw documents).
import type { JsonWebKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The JWKS media type (RFC 7517 §8.5), the only representation kube-apiserver offers. */
export const JWKS_MEDIA_TYPE = 'application/jwk-set+json';

/** One key as the API server lists it: RSA n/e, `use` and `alg`, never x5c. */
export function apiServerJwk(key: { kid: string; publicJwk: JsonWebKey }): Record<string, unknown> {
  return { use: 'sig', kty: 'RSA', kid: key.kid, alg: 'RS256', n: key.publicJwk.n, e: key.publicJwk.e };
}

/**
 * As kube-apiserver v1.37.2: a request whose Accept rules out the JWKS media type (e.g.
 * application/json alone) gets 406. No Accept, or one that allows it or * / *, passes (libcurl,
 * Go, fetch). Returns true when it answered.
 */
export function refusedJwksAccept(req: IncomingMessage, res: ServerResponse): boolean {
  const accept = req.headers.accept ?? '*/*';
  if (accept.includes(JWKS_MEDIA_TYPE) || accept.includes('*/*')) return false;
  res
    .writeHead(406, { 'content-type': 'text/plain' })
    .end(`406: Not Acceptable\n\nAvailable representations: ${JWKS_MEDIA_TYPE}`);
  return true;
}
