import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { capConnections } from '../shared/connection-cap.ts';
import { sendError } from '../shared/http-error.ts';
import type { IssuerMetrics, ServedDocument } from './issuer-metrics.ts';
import { JWKS_PATH, type PublishedDocuments } from './published-documents.ts';

/** Where stores look for discovery: `<iss>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4). */
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
/** The key list with thumbprints, for registering the store's OIDC provider. */
export const THUMBPRINTS_PATH = '/thumbprints';

/**
 * Open connections the listener keeps. Its clients are a few stores fetching two small documents
 * per token check; beyond the cap the oldest idle connection is closed, so idle sockets from
 * anywhere the Service is reachable cannot grow memory (shared/connection-cap.ts).
 */
export const MAX_ISSUER_CONNECTIONS = 128;

export interface IssuerServerOptions {
  tls: Pick<SecureContextOptions, 'cert' | 'key'>;
  /** The documents to serve now; undefined before the first load (answered 503). */
  documents: () => PublishedDocuments | undefined;
  /** `cache-control: max-age` of the documents, s: they change at most once a refresh. */
  cacheMaxAgeSeconds: number;
  metrics: IssuerMetrics;
}

const ROUTES: Record<
  string,
  { document: ServedDocument; type: string; body: (d: PublishedDocuments) => Buffer }
> = {
  [DISCOVERY_PATH]: { document: 'discovery', type: 'application/json', body: (d) => d.discovery },
  [JWKS_PATH]: { document: 'jwks', type: 'application/jwk-set+json', body: (d) => d.jwks },
  [THUMBPRINTS_PATH]: { document: 'thumbprints', type: 'application/json', body: (d) => d.thumbprints },
};

/**
 * HTTPS, GET or HEAD only, three documents. A store builds the discovery URL from the token's
 * `iss`, so when the issuer URL has a path (https://host/cluster-a) the documents are served
 * under that path as well as at the root. Errors are the JSON body of shared/http-error.ts.
 * Rotate the certificate with `server.setSecureContext()` (shared/tls-pair.ts).
 */
export function createIssuerServer(options: IssuerServerOptions): Server {
  const server = createServer(
    { ...options.tls, headersTimeout: 10_000, requestTimeout: 30_000 },
    (req, res) => {
      const document = handle(req, res, options);
      res.once('finish', () => options.metrics.requests.inc({ document, code: String(res.statusCode) }));
    },
  );
  capConnections(server, {
    max: MAX_ISSUER_CONNECTIONS,
    onEvict: () => options.metrics.connectionsDropped.inc({ listener: 'issuer' }),
  });
  return server;
}

function handle(req: IncomingMessage, res: ServerResponse, options: IssuerServerOptions): ServedDocument {
  const current = options.documents();
  const route = ROUTES[relativePath(req.url ?? '', current)];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 'HTTP_METHOD_NOT_ALLOWED', 'Use GET or HEAD.', { allow: 'GET, HEAD' });
  } else if (route === undefined) {
    sendError(
      res,
      'HTTP_NOT_FOUND',
      `The issuer serves ${DISCOVERY_PATH}, ${JWKS_PATH} and ${THUMBPRINTS_PATH} (also under the issuer URL's path).`,
    );
  } else if (current === undefined) {
    sendError(res, 'ISSUER_NOT_READY', 'No documents loaded from the API server yet; retry shortly.', {
      'retry-after': '5',
    });
  } else {
    const body = route.body(current);
    // For HEAD, Node sends these headers and no body.
    res
      .writeHead(200, {
        'content-type': route.type,
        'content-length': String(body.length),
        'cache-control': `public, max-age=${options.cacheMaxAgeSeconds}`,
      })
      .end(body);
  }
  return route?.document ?? 'other';
}

/** The path without query, and without the issuer URL's own path when it starts with it. */
function relativePath(url: string, current: PublishedDocuments | undefined): string {
  const path = url.split('?', 1)[0]!;
  // The issuer is an http(s) URL: published-documents.ts refuses anything else.
  const prefix = current === undefined ? '' : new URL(current.issuer).pathname.replace(/\/+$/, '');
  return prefix !== '' && path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}
