import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { answerClientErrors } from './client-error.ts';
import { capConnections } from './connection-cap.ts';
import { sendError } from './http-error.ts';

/** Probes and a scrape or two at a time; more is not a client we serve (issue #13, item 9). */
export const MAX_OPS_CONNECTIONS = 32;

/** Options for {@link createOpsServer}. */
export interface OpsServerOptions {
  /** Served at /metrics: the subcommand's own registry. */
  registry: Registry;
  /** Whether /readyz answers 200; asked on every probe. */
  ready: () => boolean;
  /**
   * Why /readyz answers 503, one sentence for the message of its JSON error body, e.g. `No
   * servable credentials are held yet.`; a function when the reason varies (starting, draining).
   */
  notReadyText: string | (() => string);
  /** Called for every connection closed at the cap (for a dropped-connections counter). */
  onEvict?: () => void;
}

/**
 * The ops listener of every subcommand, plain HTTP on its own port (the pod IP), so a scrape
 * never queues behind or in front of the real work:
 * - /healthz: the process and its event loop answer. Never tied to a dependency, so an STS or
 *   API-server outage never makes the kubelet restart us (eks-pod-identity-agent #26).
 * - /readyz: 200 while `ready()` holds (the sidecar: servable credentials, its native-sidecar
 *   startupProbe; the webhook: its HTTPS listener is up and not draining).
 * - /metrics: Prometheus text from the subcommand's registry.
 * Errors, a 503 /readyz included, are the JSON body of shared/http-error.ts (code HTTP_NOT_READY
 * with the reason as its message); the 200 answers stay plain text.
 */
export function createOpsServer(options: OpsServerOptions): Server {
  const { registry } = options;
  const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 'HTTP_METHOD_NOT_ALLOWED', 'Use GET or HEAD.', { allow: 'GET, HEAD' });
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      if (options.ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
      else
        sendError(
          res,
          'HTTP_NOT_READY',
          typeof options.notReadyText === 'function' ? options.notReadyText() : options.notReadyText,
        );
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => sendError(res, 'INTERNAL_ERROR', 'Collecting the metrics failed.'),
      );
    } else {
      sendError(res, 'HTTP_NOT_FOUND', 'The ops listener serves /healthz, /readyz and /metrics.');
    }
  });
  capConnections(server, { max: MAX_OPS_CONNECTIONS, onEvict: options.onEvict ?? (() => undefined) });
  answerClientErrors(server);
  return server;
}
