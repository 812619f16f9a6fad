// A Kubernetes API server (HTTPS, bearer token) for the few paths the webhook uses, over a real socket, so
// ServiceAccount lookups go through @kubernetes/client-node unchanged (list, watch, get):
//   GET /api/v1/serviceaccounts                       list (ServiceAccountList + resourceVersion)
//   GET /api/v1/serviceaccounts?watch=true&rv=N        NDJSON watch events after N, held open
//   GET /api/v1/namespaces/{ns}/serviceaccounts/{name} get, or a 404 Status
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeServiceAccount {
  namespace: string;
  name: string;
  annotations?: Record<string, string>;
}

interface Stored {
  object: Record<string, unknown>;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Record<string, unknown>;
}

export class FakeKubeApi {
  readonly server: Server;
  #rv = 1;
  readonly #objects = new Map<string, Stored>();
  readonly #events: WatchEvent[] = [];
  readonly #watchers = new Set<ServerResponse>();
  #paused = false;
  #failLists = 0;
  #failGets = 0;
  /** Requests seen, by kind. */
  readonly requests = { list: 0, watch: 0, get: 0 };
  /**
   * More paths, asked first: a route answers and returns true, or returns false to pass. The
   * issuer's documents and TokenRequest live in fake-cluster-issuer.ts this way.
   */
  readonly routes: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => boolean> = [];

  readonly #caPem: string;

  /** Serves HTTPS with this pair (client-node refuses plain http unless TLS checks are off). */
  constructor(tls: { certPem: string; keyPem: string }) {
    this.#caPem = tls.certPem;
    this.server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => this.#handle(req, res));
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this.url;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.end();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Writes a kubeconfig that points client-node at this server; returns its path. */
  async writeKubeconfig(dir: string): Promise<string> {
    const file = join(dir, 'kubeconfig.json');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'fake',
            cluster: {
              server: this.url,
              'certificate-authority-data': Buffer.from(this.#caPem).toString('base64'),
            },
          },
        ],
        users: [{ name: 'fake', user: { token: 'fake-bearer-token' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      }),
    );
    return file;
  }

  /** Creates or updates a ServiceAccount and emits the watch event (unless paused). */
  upsert(sa: FakeServiceAccount): void {
    const key = `${sa.namespace}/${sa.name}`;
    const existed = this.#objects.has(key);
    const rv = ++this.#rv;
    const object = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: sa.name,
        namespace: sa.namespace,
        resourceVersion: String(rv),
        annotations: sa.annotations ?? {},
      },
    };
    this.#objects.set(key, { object });
    this.#emit({ rv, type: existed ? 'MODIFIED' : 'ADDED', object });
  }

  remove(namespace: string, name: string): void {
    const stored = this.#objects.get(`${namespace}/${name}`);
    if (!stored) return;
    this.#objects.delete(`${namespace}/${name}`);
    this.#emit({ rv: ++this.#rv, type: 'DELETED', object: stored.object });
  }

  /** Holds watch events back (a slow watch) until resumeWatch(). */
  pauseWatch(): void {
    this.#paused = true;
  }

  resumeWatch(): void {
    this.#paused = false;
    for (const w of this.#watchers) this.#flush(w, Number((w as ServerResponse & { rv?: number }).rv ?? 0));
  }

  /** The next n list requests answer 500. */
  failLists(n: number): void {
    this.#failLists = n;
  }

  /** The next n get requests answer 500. */
  failGets(n: number): void {
    this.#failGets = n;
  }

  /** Resolves at the next watch request (after a list); lets a test await "the informer is watching". */
  nextWatch(): Promise<void> {
    return once(this.server, 'watch').then(() => undefined);
  }

  #emit(event: WatchEvent): void {
    this.#events.push(event);
    if (!this.#paused)
      for (const w of this.#watchers) this.#flush(w, (w as ServerResponse & { rv?: number }).rv ?? 0);
  }

  #flush(res: ServerResponse & { rv?: number }, since: number): void {
    for (const e of this.#events) {
      if (e.rv <= since) continue;
      res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      res.rv = e.rv;
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const status = (code: number, reason: string, message: string): void => {
      res
        .writeHead(code, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
    };
    if (this.routes.some((route) => route(req, res, url))) return;
    if (req.method !== 'GET') return status(405, 'MethodNotAllowed', 'only GET is faked');
    if (url.pathname === '/api/v1/serviceaccounts' && url.searchParams.get('watch') === 'true') {
      this.requests.watch++;
      const w = res as ServerResponse & { rv?: number };
      w.rv = Number(url.searchParams.get('resourceVersion') ?? '0');
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.#watchers.add(w);
      res.on('close', () => this.#watchers.delete(w));
      if (!this.#paused) this.#flush(w, w.rv);
      this.server.emit('watch');
      return;
    }
    if (url.pathname === '/api/v1/serviceaccounts') {
      this.requests.list++;
      if (this.#failLists > 0) {
        this.#failLists--;
        return status(500, 'InternalError', 'injected list failure');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ServiceAccountList',
          metadata: { resourceVersion: String(this.#rv) },
          items: [...this.#objects.values()].map((s) => s.object),
        }),
      );
      return;
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(url.pathname);
    if (m) {
      this.requests.get++;
      if (this.#failGets > 0) {
        this.#failGets--;
        return status(500, 'InternalError', 'injected get failure');
      }
      const stored = this.#objects.get(`${m[1]}/${m[2]}`);
      if (!stored) return status(404, 'NotFound', `serviceaccounts "${m[2]}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stored.object));
      return;
    }
    status(404, 'NotFound', `the fake does not serve ${url.pathname}`);
  }
}
