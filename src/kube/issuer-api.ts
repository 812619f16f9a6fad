// What the `issuer` subcommand reads from the API server: the service-account issuer's discovery
// document and JWKS, and a TokenRequest whose header names the key that signs now. client-node
// supplies the connection (kubeconfig or in-cluster: server, CA, token re-read per call); the
// requests themselves are made here, because the generated WellKnownApi/OpenidApi read a body
// whole with no deadline (client-node 2.0.1, `response.body.text()`), and a refresh loop must
// neither hang on a stuck API server nor buffer whatever it is sent.
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { type ErrorCode, hintOf, SidecarError } from '../shared/errors.ts';
import { setSafeTimeout } from '../shared/timers.ts';

/** The documents as the API server serves them, checked for shape only. */
export interface ClusterIssuerDocuments {
  /** /.well-known/openid-configuration; `issuer` is a string. */
  readonly discovery: Readonly<Record<string, unknown>>;
  /** /openid/v1/jwks; `keys` is an array (its members are checked by the publisher). */
  readonly jwks: { readonly keys: readonly unknown[] };
}

/** The API server, narrowed to the issuer's three calls. */
export interface IssuerApi {
  /** Both documents. @throws SidecarError ISSUER_API_UNAVAILABLE or ISSUER_DOCUMENT_INVALID */
  readDocuments(): Promise<ClusterIssuerDocuments>;
  /**
   * The `kid` of a fresh token for the probe ServiceAccount: the key the API server signs with
   * now (its JWKS does not say). The token is decoded for its header and dropped, never kept.
   * @throws SidecarError ISSUER_PROBE_FAILED
   */
  probeSigningKid(): Promise<string>;
}

export interface IssuerApiOptions {
  /** Kubeconfig path; undefined = loadFromDefault (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig: string | undefined;
  /** Deadline of one request, ms. */
  timeoutMs: number;
  /** The ServiceAccount the probe token is requested for; undefined = no probe possible. */
  probe: { namespace: string; serviceAccount: string } | undefined;
}

/** A JWKS of a few keys is a few KiB; anything near this is not one. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;
/** Audience of the probe token: no store accepts it, so it is useless if it ever leaked. */
export const PROBE_AUDIENCE = 'sts-sidecar-issuer-probe';
/** The shortest lifetime the API server grants (docs/design/upstream-facts.md, "The issuer publisher"). */
export const PROBE_EXPIRATION_SECONDS = 600;

type Answer = { status: number; body: Buffer };

/** RBAC: get on the nonResourceURLs of system:service-account-issuer-discovery; create on serviceaccounts/token (the probe SA only). */
export function createIssuerApi(options: IssuerApiOptions): IssuerApi {
  const kc = new KubeConfig();
  if (options.kubeconfig === undefined) kc.loadFromDefault();
  else kc.loadFromFile(options.kubeconfig);

  /** The message, then the code's fix-it sentence: these failures come from the API server's side. */
  const fail = (code: ErrorCode, message: string, cause?: unknown): SidecarError =>
    new SidecarError(code, `${message} ${hintOf(code)}`, { cause });

  async function call(
    method: 'GET' | 'POST',
    path: string,
    code: ErrorCode,
    body?: unknown,
    accept = 'application/json',
  ): Promise<Answer> {
    const server = kc.getCurrentCluster()?.server;
    if (server === undefined)
      throw new SidecarError(
        code,
        'the kubeconfig has no current cluster; set --kubeconfig or run in a pod.',
      );
    const opts: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    // Appended, not resolved: a server URL may carry a path prefix (an API proxy).
    const url = new URL(`${server.replace(/\/+$/, '')}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    opts.method = method;
    opts.headers.accept = accept;
    if (payload !== undefined) opts.headers['content-type'] = 'application/json';
    return new Promise<Answer>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        clearTimeout(timer);
        fn();
      };
      const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(
        url,
        opts,
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_DOCUMENT_BYTES) return void chunks.push(chunk);
            req.destroy();
            const tooLarge = code === 'ISSUER_API_UNAVAILABLE' ? 'ISSUER_DOCUMENT_INVALID' : code;
            settle(() =>
              reject(fail(tooLarge, `${method} ${path} answered more than ${MAX_DOCUMENT_BYTES} bytes.`)),
            );
          });
          res.on('end', () =>
            settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) })),
          );
          res.on('error', (error) =>
            settle(() => reject(fail(code, `${method} ${path} failed while reading.`, error))),
          );
        },
      );
      const timer = setSafeTimeout(() => {
        req.destroy();
        reject(fail(code, `${method} ${path} got no answer within ${options.timeoutMs} ms.`));
      }, options.timeoutMs);
      req.on('error', (error) => {
        const errno = (error as NodeJS.ErrnoException).code ?? error.name;
        settle(() => reject(fail(code, `${method} ${path} failed (${errno}); check the API server.`, error)));
      });
      req.end(payload);
    });
  }

  /** Status text of a refusal: the API server's own Status message, which names the RBAC gap. */
  function refusal(method: string, path: string, answer: Answer): string {
    let reason = '';
    try {
      const status = JSON.parse(answer.body.toString('utf8')) as { message?: unknown };
      if (typeof status.message === 'string') reason = `: ${status.message.slice(0, 300)}`;
    } catch {
      // Not a Status object: the HTTP code says enough.
    }
    return `${method} ${path} answered HTTP ${answer.status}${reason}`;
  }

  async function getJsonObject(path: string, accept?: string): Promise<Record<string, unknown>> {
    const answer = await call('GET', path, 'ISSUER_API_UNAVAILABLE', undefined, accept);
    if (answer.status < 200 || answer.status > 299)
      throw fail('ISSUER_API_UNAVAILABLE', `${refusal('GET', path, answer)}.`);
    let value: unknown;
    try {
      value = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw fail('ISSUER_DOCUMENT_INVALID', `GET ${path} answered something that is not JSON.`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw fail('ISSUER_DOCUMENT_INVALID', `GET ${path} answered JSON that is not an object.`);
    return value as Record<string, unknown>;
  }

  return {
    async readDocuments() {
      const discovery = await getJsonObject('/.well-known/openid-configuration');
      if (typeof discovery.issuer !== 'string' || discovery.issuer === '')
        throw fail('ISSUER_DOCUMENT_INVALID', 'the discovery document has no "issuer".');
      // The API server offers the JWKS only as application/jwk-set+json and answers 406 Not
      // Acceptable to application/json (seen on kube-apiserver v1.37.2).
      const jwks = await getJsonObject('/openid/v1/jwks', 'application/jwk-set+json');
      if (!Array.isArray(jwks.keys)) throw fail('ISSUER_DOCUMENT_INVALID', 'the JWKS has no "keys" array.');
      return { discovery, jwks: { keys: jwks.keys } };
    },

    async probeSigningKid() {
      const probe = options.probe;
      if (probe === undefined)
        throw new SidecarError(
          'ISSUER_PROBE_FAILED',
          'the JWKS has several keys and no probe ServiceAccount is set; set --probe-service-account (and --probe-namespace outside a pod).',
        );
      const path = `/api/v1/namespaces/${encodeURIComponent(probe.namespace)}/serviceaccounts/${encodeURIComponent(probe.serviceAccount)}/token`;
      const answer = await call('POST', path, 'ISSUER_PROBE_FAILED', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [PROBE_AUDIENCE], expirationSeconds: PROBE_EXPIRATION_SECONDS },
      });
      if (answer.status < 200 || answer.status > 299)
        throw fail('ISSUER_PROBE_FAILED', `${refusal('POST', path, answer)}.`);
      const kid = kidOfTokenRequest(answer.body);
      if (kid === undefined)
        throw fail('ISSUER_PROBE_FAILED', `POST ${path} answered no token with a "kid" header.`);
      return kid;
    },
  };
}

/**
 * The `kid` of `status.token` in a TokenRequest answer, or undefined. Only the JWT header is
 * decoded; nothing of the answer leaves this function but the kid (no error quotes it).
 */
export function kidOfTokenRequest(body: Buffer): string | undefined {
  try {
    const token = (JSON.parse(body.toString('utf8')) as { status?: { token?: unknown } }).status?.token;
    if (typeof token !== 'string') return undefined;
    const header = JSON.parse(Buffer.from(token.split('.', 1)[0]!, 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' && header.kid !== '' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
