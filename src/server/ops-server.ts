import { createServer, type Server } from 'node:http';
import type { CredentialStore } from '../credentials/credential-store.ts';
import type { SidecarMetrics } from '../metrics.ts';
import { capConnections } from './connection-cap.ts';

/** Probes and a scrape or two at a time; more is not a client we serve (issue #13, item 9). */
export const MAX_OPS_CONNECTIONS = 32;

export interface OpsServerOptions {
  store: CredentialStore;
  metrics: SidecarMetrics;
}

/**
 * Probes and metrics, on their own listener (the pod IP) so a scrape never queues behind or
 * in front of credential requests on the loopback one:
 * - /healthz: the process and its event loop answer. Never tied to STS, so an STS outage never
 *   makes the kubelet restart the sidecar (eks-pod-identity-agent #26).
 * - /readyz: 200 only while servable credentials are held: the native sidecar's startupProbe,
 *   so app containers start with credentials available.
 * - /metrics: Prometheus text from our own registry.
 */
export function createOpsServer(options: OpsServerOptions): Server {
  const { store, metrics } = options;
  const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = store.servable() !== undefined;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'no servable credentials\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  capConnections(server, {
    max: MAX_OPS_CONNECTIONS,
    onEvict: () => metrics.connectionsDropped.inc({ listener: 'ops' }),
  });
  return server;
}
