// The slice of a Kubernetes API server that Helm's `lookup` needs for one kind, over a real
// socket (plain HTTP on 127.0.0.1): discovery of core/v1 secrets and GET of one Secret.
//   GET /api/v1                                   APIResourceList naming secrets (RESTMapper)
//   GET /api/v1/namespaces/{ns}/secrets/{name}    the stored Secret, or a 404 Status
// `helm template --dry-run=server` with a kubeconfig pointing here renders as an upgrade would.
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export class FakeSecretApi {
  readonly server: Server;
  readonly #secrets = new Map<string, Record<string, unknown>>();
  /** Paths of the GETs answered, in order. */
  readonly requests: string[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '').split('?', 1)[0]!;
      this.requests.push(`${req.method} ${path}`);
      if (req.method !== 'GET') return send(res, 405, status(405, 'MethodNotAllowed'));
      if (path === '/api/v1')
        return send(res, 200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: 'v1',
          resources: [
            { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['get'] },
          ],
        });
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
      const secret = m ? this.#secrets.get(`${m[1]}/${m[2]}`) : undefined;
      if (secret) return send(res, 200, secret);
      send(res, 404, status(404, 'NotFound'));
    });
  }

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Stores (or replaces) a Secret as the API would return it. */
  putSecret(
    secret: { metadata: { namespace: string; name: string; annotations?: Record<string, string> } } & Record<
      string,
      unknown
    >,
  ): void {
    this.#secrets.set(`${secret.metadata.namespace}/${secret.metadata.name}`, {
      apiVersion: 'v1',
      kind: 'Secret',
      ...secret,
    });
  }

  /** Writes a kubeconfig for this server into dir; returns its path. */
  writeKubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig.json');
    const server = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server } }],
        users: [{ name: 'fake', user: {} }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      }),
    );
    return file;
  }
}

const status = (code: number, reason: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason,
  code,
});

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
