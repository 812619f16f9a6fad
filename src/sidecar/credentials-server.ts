import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CredentialStore } from '../credentials/credential-store.ts';
import type { Credentials } from '../credentials/credentials.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { httpStatusOf, JSON_HEADERS, toErrorBody } from '../shared/http-error.ts';
import type { SidecarMetrics } from './sidecar-metrics.ts';
import { authTokenMatches } from './auth-token.ts';
import { answerClientErrors } from '../shared/client-error.ts';
import { capConnections } from '../shared/connection-cap.ts';

/** The ECS container-credentials JSON every SDK parses (docs/design/upstream-facts.md). */
export interface EcsCredentialsBody {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  /** `Date.toISOString()`: the JS SDK accepts only a `Z` suffix, not `+00:00`. */
  Expiration: string;
}

export function toEcsCredentialsBody(c: Credentials): EcsCredentialsBody {
  return {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    Expiration: c.expiration.toISOString(),
  };
}

export interface CredentialsServerOptions {
  store: CredentialStore;
  metrics: SidecarMetrics;
  /** Path SDKs ask for, e.g. /v1/credentials. */
  path: string;
  /** The current auth token; a function so a rotated token file takes effect at once. */
  authToken: () => Buffer;
  /** Open connections allowed at once; default {@link MAX_CREDENTIAL_CONNECTIONS}. */
  maxConnections?: number;
}

/**
 * A loopback endpoint has a handful of SDK clients, each with one or two keep-alive sockets.
 * Without a cap, 10 000 idle connections took RSS from 66 to 287 MiB (issue #13, item 9);
 * beyond it the oldest idle connection is closed (connection-cap.ts) and counted in
 * sts_sidecar_connections_dropped_total.
 */
export const MAX_CREDENTIAL_CONNECTIONS = 128;

/**
 * Retry-After on a 503, in seconds. Small on purpose: aws-sdk-js v2 sleeps for Retry-After
 * between its own retries, so a value near the next planned exchange made its first call block
 * up to ~90 s (issue #13, item 8). The scheduler refreshes as soon as the held credentials stop
 * being servable, so "shortly" is the honest answer.
 */
export const RETRY_AFTER_SECONDS = 1;

// Limits that keep a misbehaving local client from holding resources: SDK requests are a
// few hundred bytes and answered from memory in microseconds.
const MAX_HEADER_BYTES = 8 * 1024;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
// Node enforces the two timeouts above only when it sweeps connections (every 30 s by default);
// sweep every second so a slowloris client is cut off close to HEADERS_TIMEOUT_MS.
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

interface ScannedHeaders {
  /** The Authorization value; undefined when absent or sent more than once. */
  authorization: string | undefined;
  /** X-Forwarded-For or Forwarded present. */
  proxied: boolean;
  /** A body is announced: Content-Length other than 0, or Transfer-Encoding. */
  body: boolean;
}

/** The request headers the endpoint decides on, from one pass over `req.rawHeaders`. */
function scanHeaders(raw: readonly string[]): ScannedHeaders {
  const out: ScannedHeaders = { authorization: undefined, proxied: false, body: false };
  let authorizations = 0;
  for (let i = 0; i < raw.length; i += 2) {
    switch (raw[i]!.toLowerCase()) {
      case 'authorization':
        // Node's req.headers keeps the first of two; the endpoint refuses the ambiguity instead.
        authorizations += 1;
        out.authorization = authorizations === 1 ? raw[i + 1] : undefined;
        break;
      case 'x-forwarded-for':
      case 'forwarded':
        out.proxied = true;
        break;
      case 'content-length':
        // `Content-Length: 0` is harmless (some clients send it on GET); any body is not.
        if (Number(raw[i + 1]) !== 0) out.body = true;
        break;
      case 'transfer-encoding':
        out.body = true;
        break;
    }
  }
  return out;
}

/**
 * The loopback ECS-style credentials endpoint: the only place where errors become HTTP. It
 * never calls STS; it serves what the store holds, pre-serialised when it changes, and only
 * while the store says it is servable.
 */
export function createCredentialsServer(options: CredentialsServerOptions): Server {
  const { store, metrics, path } = options;
  let servedFor: Credentials | undefined;
  let body = Buffer.alloc(0);
  const bodyFor = (c: Credentials): Buffer => {
    if (c !== servedFor) {
      body = Buffer.from(JSON.stringify(toEcsCredentialsBody(c)));
      servedFor = c;
    }
    return body;
  };
  store.on('change', (c) => {
    if (c) bodyFor(c);
  });

  interface Answer {
    status: number;
    body: Buffer;
    headers?: Record<string, string>;
  }
  const error = (code: ErrorCode, message: string, headers?: Record<string, string>): Answer => ({
    status: httpStatusOf(code),
    body: Buffer.from(JSON.stringify(toErrorBody(code, message))),
    ...(headers ? { headers } : {}),
  });

  /** Decides the answer; each status code has exactly one cause. */
  const answer = (req: IncomingMessage): Answer => {
    const url = req.url ?? '';
    const pathname = url === path ? path : url.split('?', 1)[0];
    const headers = scanHeaders(req.rawHeaders);
    if (headers.proxied)
      return error('HTTP_PROXIED_REQUEST_REFUSED', 'Requests relayed by a proxy are refused.');
    if (pathname !== path) return error('HTTP_NOT_FOUND', `Credentials are served at ${path}.`);
    if (req.method !== 'GET') return error('HTTP_METHOD_NOT_ALLOWED', 'Use GET.', { allow: 'GET' });
    if (headers.body)
      return error('HTTP_BODY_NOT_ALLOWED', 'A credentials request has no body.', { connection: 'close' });
    if (!authTokenMatches(headers.authorization, options.authToken()))
      return error(
        'HTTP_UNAUTHORIZED',
        'Missing or wrong Authorization header: send the contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.',
      );
    const credentials = store.servable();
    if (credentials === undefined)
      return error(
        'NO_VALID_CREDENTIALS',
        'No credentials with at least 60 s left are held; retry shortly.',
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    return { status: 200, body: bodyFor(credentials) };
  };

  // The 200 headers are built once per body, like the body itself.
  let okHeadersFor: Buffer | undefined;
  let okHeaders: Record<string, string> = {};

  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
  });
  const cap = capConnections(server, {
    max: options.maxConnections ?? MAX_CREDENTIAL_CONNECTIONS,
    onEvict: () => metrics.connectionsDropped.inc({ listener: 'credentials' }),
    // handle() answers before it returns and reports each answer to the cap itself.
    answersInline: true,
  });
  // Oversized headers (431), slowloris (408), garbage (400): the JSON error body too.
  answerClientErrors(server, (status) => metrics.credentialRequests.inc({ status: String(status) }));

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const { status, body: payload, headers } = answer(req);
    metrics.credentialRequests.inc({ status: String(status) });
    cap.answered(req.socket, status);
    if (status === 200) {
      if (okHeadersFor !== payload) {
        okHeaders = { ...JSON_HEADERS, 'content-length': String(payload.length) };
        okHeadersFor = payload;
      }
      res.writeHead(200, okHeaders);
    } else {
      res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(payload.length), ...headers });
    }
    res.end(payload);
  };

  server.on('request', handle);
  return server;
}
