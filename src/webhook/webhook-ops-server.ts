import { createServer, type Server } from 'node:http';
import { capConnections } from '../server/connection-cap.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

const MAX_WEBHOOK_OPS_CONNECTIONS = 32;

/**
 * The webhook's probes and metrics, plain HTTP on their own port:
 * - /healthz: the event loop answers;
 * - /readyz: the HTTPS listener is up with a certificate (ServiceAccount lookups fall back to a
 *   GET, so an unsynced cache does not make the webhook unready);
 * - /metrics: Prometheus text from the webhook's own registry.
 */
export function createWebhookOpsServer(options: { metrics: WebhookMetrics; ready: () => boolean }): Server {
  const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = options.ready();
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'starting\n');
    } else if (path === '/metrics') {
      options.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  // Probes and a scrape or two at a time (issue #13, item 9: every listener has a cap).
  capConnections(server, { max: MAX_WEBHOOK_OPS_CONNECTIONS, onEvict: () => undefined });
  return server;
}
