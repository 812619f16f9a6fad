// An HTTP server on 127.0.0.1:0 that answers each path with a canned reply, for the broken
// issuers `sts-sidecar check` must name (a discovery document behind auth, not JSON, without
// jwks_uri; a JWKS without keys or with an unusable key; an endless body). The happy issuer is
// test/fakes/oidc-issuer.ts.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One canned reply; `body` objects are sent as JSON. */
export interface StaticReply {
  status?: number;
  body: string | object;
  /** Send this many bytes of padding after the body, to exceed a reader's cap. */
  padBytes?: number;
}

export class StaticHttp {
  readonly url: string;
  readonly #server: Server;
  readonly #routes = new Map<string, StaticReply>();

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(): Promise<StaticHttp> {
    // eslint-disable-next-line prefer-const -- the handler reads it once the server exists
    let self: StaticHttp | undefined;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const reply = self === undefined ? undefined : self.#routes.get(path);
      if (reply === undefined) return void res.writeHead(404).end('not found\n');
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(text + ' '.repeat(reply.padBytes ?? 0));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    self = new StaticHttp(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Answers GET `path` with `reply` from now on. */
  route(path: string, reply: StaticReply): this {
    this.#routes.set(path, reply);
    return this;
  }

  /** A discovery document naming this server as issuer (overridable) and its `/keys` as JWKS. */
  discovery(overrides: Record<string, unknown> = {}): this {
    return this.route('/.well-known/openid-configuration', {
      body: { issuer: this.url, jwks_uri: `${this.url}/keys`, ...overrides },
    });
  }

  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }
}
