import { execFile } from 'node:child_process';
import {
  createHash,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiServerJwk, JWKS_MEDIA_TYPE, refusedJwksAccept } from './kube-jwks.ts';

const execFileAsync = promisify(execFile);

/** Options for {@link OidcIssuer.start}. */
export interface OidcIssuerOptions {
  /** Serve over HTTPS with this key pair (see test/helpers/tls.ts). Default: plain HTTP. */
  tls?: { certPem: string; keyPem: string };
  /**
   * Add `x5c` (a self-signed cert for the signing key, base64 DER) to every JWK. RGW before
   * 18.2.8 / 19.2.3 only verifies keys that carry `x5c` (docs/design/upstream-facts.md). Default false,
   * which is what a Kubernetes API server publishes.
   */
  x5c?: boolean;
}

/** Options for {@link OidcIssuer.signToken}; every field is optional. */
export interface SignTokenOptions {
  /** Default `default`. */
  namespace?: string;
  /** Default `default`. */
  serviceAccount?: string;
  /** Default `app-0`. */
  podName?: string;
  /** `aud`; always encoded as an array, as the API server does. Default `['sts.example.test']`. */
  audience?: string | string[];
  /** `exp - iat`. Default 3600 s. */
  lifetimeSeconds?: number;
  /** Clock for `iat`/`nbf`/`exp`; pass a past date to mint an already-expired token. Default now. */
  now?: Date;
  /** `iss` override, to mint a token claiming another issuer. Default {@link OidcIssuer.issuer}. */
  issuer?: string;
  /** `other-key` signs with an unpublished key under the current `kid` (bad signature). Default `issuer`. */
  signWith?: 'issuer' | 'other-key';
  /** Leave `kid` out of the JWT header. Default false. */
  omitKid?: boolean;
  /** Extra or replacement payload claims, merged last. */
  claims?: Record<string, unknown>;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JsonWebKey;
  x5c?: string;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Stable UUID-shaped id derived from a name, so a ServiceAccount or Pod keeps its uid across tokens. */
function uidFor(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function newSigningKey(withX5c: boolean): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // Like the API server: kid = base64url(SHA-256(DER SubjectPublicKeyInfo)).
  const kid = b64url(
    createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
  const key: SigningKey = { kid, privateKey, jwk: publicKey.export({ format: 'jwk' }) };
  if (withX5c) {
    const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-oidc-'));
    try {
      const keyFile = join(dir, 'key.pem');
      const derFile = join(dir, 'cert.der');
      await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await execFileAsync('openssl', [
        'req',
        '-x509',
        '-new',
        '-key',
        keyFile,
        '-subj',
        '/CN=sts-sidecar-test-oidc-signer',
        '-days',
        '1',
        '-outform',
        'DER',
        '-out',
        derFile,
      ]);
      key.x5c = (await readFile(derFile)).toString('base64');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return key;
}

/**
 * A Kubernetes-API-server-like OIDC issuer on 127.0.0.1:0: discovery document, JWKS, and
 * projected-ServiceAccount-token minting.
 */
export class OidcIssuer {
  /** Base URL; also the `iss` of minted tokens. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly #server: Server;
  readonly #withX5c: boolean;
  /** Published keys; the last one signs. */
  #keys: SigningKey[];

  private constructor(server: Server, issuer: string, key: SigningKey, withX5c: boolean) {
    this.#server = server;
    this.issuer = issuer;
    this.jwksUri = `${issuer}/keys`;
    this.#keys = [key];
    this.#withX5c = withX5c;
  }

  /** Starts the issuer and resolves once it listens. */
  static async start(opts: OidcIssuerOptions = {}): Promise<OidcIssuer> {
    const key = await newSigningKey(opts.x5c ?? false);
    // eslint-disable-next-line prefer-const -- read by the handler before the server exists to assign it
    let self: OidcIssuer | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      if (self) self.#handle(req, res);
      else res.destroy();
    };
    const server = opts.tls
      ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler)
      : createHttpServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    self = new OidcIssuer(
      server,
      `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      key,
      opts.x5c ?? false,
    );
    return self;
  }

  /** `kid` of the key that currently signs. */
  get currentKid(): string {
    return this.#signingKey().kid;
  }

  /**
   * Switches to a fresh signing key (new `kid`).
   * @param opts.retainPrevious keep publishing the old keys, as the API server does during a rotation. Default true.
   */
  async rotateSigningKey(opts: { retainPrevious?: boolean } = {}): Promise<void> {
    const key = await newSigningKey(this.#withX5c);
    this.#keys = opts.retainPrevious === false ? [key] : [...this.#keys, key];
  }

  /** Mints a JWT shaped like a Kubernetes projected ServiceAccount token (RS256). */
  signToken(opts: SignTokenOptions = {}): string {
    const namespace = opts.namespace ?? 'default';
    const serviceAccount = opts.serviceAccount ?? 'default';
    const podName = opts.podName ?? 'app-0';
    const audience = opts.audience ?? ['sts.example.test'];
    const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    const payload = {
      aud: Array.isArray(audience) ? audience : [audience],
      exp: iat + (opts.lifetimeSeconds ?? 3600),
      iat,
      iss: opts.issuer ?? this.issuer,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace,
        pod: { name: podName, uid: uidFor(`pod/${namespace}/${podName}`) },
        serviceaccount: { name: serviceAccount, uid: uidFor(`sa/${namespace}/${serviceAccount}`) },
      },
      nbf: iat,
      sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
      ...opts.claims,
    };
    const key = this.#signingKey();
    const header = opts.omitKid ? { alg: 'RS256', typ: 'JWT' } : { alg: 'RS256', kid: key.kid, typ: 'JWT' };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const privateKey =
      opts.signWith === 'other-key'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : key.privateKey;
    return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), privateKey))}`;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #signingKey(): SigningKey {
    return this.#keys[this.#keys.length - 1]!;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      this.#json(res, {
        issuer: this.issuer,
        jwks_uri: this.jwksUri,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (req.method === 'GET' && path === '/keys') {
      if (refusedJwksAccept(req, res)) return;
      this.#json(
        res,
        {
          keys: this.#keys.map((k) => ({
            ...apiServerJwk({ kid: k.kid, publicJwk: k.jwk }),
            ...(k.x5c ? { x5c: [k.x5c] } : {}),
          })),
        },
        JWKS_MEDIA_TYPE,
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  #json(res: ServerResponse, body: unknown, type = 'application/json'): void {
    res.writeHead(200, { 'content-type': type }).end(JSON.stringify(body));
  }
}
