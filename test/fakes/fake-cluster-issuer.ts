// The service-account issuer side of a fake API server, attached to a FakeKubeApi as routes:
//   GET  /.well-known/openid-configuration                       discovery (issuer, jwks_uri, ...)
//   GET  /openid/v1/jwks                                         {keys: [{use, kty, kid, alg, n, e}]}, no x5c
//   POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token    TokenRequest, signed by the signing key
// shaped as a Kubernetes API server serves them, with faults per endpoint group.
import {
  createHash,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeKubeApi } from './fake-kube-api.ts';
import { apiServerJwk, JWKS_MEDIA_TYPE, refusedJwksAccept } from './kube-jwks.ts';

/** down: connection reset; slow: never answers; oversized: a 300 KiB body; notjson: HTML. */
export type IssuerFault = 'down' | 'http500' | 'http403' | 'slow' | 'oversized' | 'notjson';

export interface FakeSigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

export interface RecordedTokenRequest {
  namespace: string;
  name: string;
  body: { spec?: { audiences?: string[]; expirationSeconds?: number } };
  /** The token handed out: a secret the publisher must never log. */
  token: string;
}

/** An RSA-2048 key with the API server's kid: base64url(SHA-256(DER SubjectPublicKeyInfo)). */
export function newSigningKey(): FakeSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
  return { kid, privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export class FakeClusterIssuer {
  /** The `issuer` of discovery and of minted tokens; tests point it at the publisher. */
  issuer: string;
  /** Published in this order; the API server's order says nothing about signing. */
  keys: FakeSigningKey[];
  signingKid: string;
  readonly requests = { discovery: 0, jwks: 0, token: 0 };
  readonly tokenRequests: RecordedTokenRequest[] = [];
  #documentFault: { fault: IssuerFault; times: number } | undefined;
  #tokenFault: { fault: IssuerFault; times: number } | undefined;

  constructor(kube: FakeKubeApi, options: { issuer: string; keys?: FakeSigningKey[] }) {
    this.issuer = options.issuer;
    this.keys = options.keys ?? [newSigningKey()];
    this.signingKid = this.keys[0]!.kid;
    kube.routes.push((req, res, url) => this.#route(req, res, url));
  }

  /** The next `times` discovery/JWKS requests fail this way (Infinity: until cleared). */
  failDocuments(fault: IssuerFault | undefined, times = Number.POSITIVE_INFINITY): void {
    this.#documentFault = fault === undefined ? undefined : { fault, times };
  }

  /** The next `times` TokenRequests fail this way. */
  failTokenRequests(fault: IssuerFault | undefined, times = Number.POSITIVE_INFINITY): void {
    this.#tokenFault = fault === undefined ? undefined : { fault, times };
  }

  /** A projected-token-shaped RS256 JWT signed by the signing key (or `kid`'s). */
  signToken(claims: Record<string, unknown>, kid = this.signingKid): string {
    const key = this.keys.find((k) => k.kid === kid) ?? assertNever(kid);
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', kid: key.kid };
    const payload = { iss: this.issuer, iat: now, nbf: now, exp: now + 3600, jti: randomUUID(), ...claims };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
  }

  #route(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const token = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(url.pathname);
    if (req.method === 'POST' && token) {
      this.requests.token++;
      if (this.#fault(res, 'token')) return true;
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString('utf8')));
      req.on('end', () => {
        const body = JSON.parse(text) as RecordedTokenRequest['body'];
        const minted = this.signToken({
          aud: body.spec?.audiences ?? [],
          sub: `system:serviceaccount:${token[1]}:${token[2]}`,
        });
        this.tokenRequests.push({ namespace: token[1]!, name: token[2]!, body, token: minted });
        json(res, 201, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: body.spec,
          status: { token: minted, expirationTimestamp: new Date(Date.now() + 600_000).toISOString() },
        });
      });
      return true;
    }
    if (req.method !== 'GET') return false;
    if (url.pathname === '/.well-known/openid-configuration') {
      this.requests.discovery++;
      if (this.#fault(res, 'documents')) return true;
      json(res, 200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return true;
    }
    if (url.pathname === '/openid/v1/jwks') {
      this.requests.jwks++;
      if (this.#fault(res, 'documents')) return true;
      if (refusedJwksAccept(req, res)) return true;
      const keys = this.keys.map(apiServerJwk);
      res.writeHead(200, { 'content-type': JWKS_MEDIA_TYPE }).end(JSON.stringify({ keys }));
      return true;
    }
    return false;
  }

  /** Answers with the pending fault of `which`, if any; true when it did. */
  #fault(res: ServerResponse, which: 'documents' | 'token'): boolean {
    const pending = which === 'documents' ? this.#documentFault : this.#tokenFault;
    if (pending === undefined || pending.times <= 0) return false;
    pending.times--;
    switch (pending.fault) {
      case 'down':
        res.socket?.destroy();
        break;
      case 'slow':
        break; // held until the client gives up or the fake closes
      case 'http500':
        status(res, 500, 'InternalError', 'injected failure');
        break;
      case 'http403':
        status(res, 403, 'Forbidden', 'injected: cannot create resource "serviceaccounts/token"');
        break;
      case 'oversized':
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [], pad: 'x'.repeat(300 * 1024) }));
        break;
      case 'notjson':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>');
        break;
    }
    return true;
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
}

function assertNever(kid: string): never {
  throw new Error(`the fake has no key ${kid}`);
}
