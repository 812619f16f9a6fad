// The connection cap's eviction order over real sockets: refused (4xx) connections go first,
// then ones with no answer yet, and a client we serve goes last.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { CredentialStore } from '../../src/credentials/credential-store.ts';
import { capConnections } from '../../src/shared/connection-cap.ts';
import { closeGracefully, listen } from '../../src/shared/http-lifecycle.ts';
import { generateAuthToken } from '../../src/sidecar/auth-token.ts';
import { createCredentialsServer } from '../../src/sidecar/credentials-server.ts';
import { SidecarMetrics } from '../../src/sidecar/sidecar-metrics.ts';

const PATH = '/v1/credentials';

/** A raw keep-alive connection that sends one request at a time and reads one answer. */
class Client {
  readonly socket: Socket;
  #buffer = '';

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buffer += d;
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new Client(socket);
  }

  /**
   * Sends a GET and resolves with the status code of its answer, or 'closed' when the server
   * closes the connection first (which is what eviction looks like to a client).
   */
  async get(path: string, authorization?: string): Promise<number | 'closed'> {
    if (this.socket.destroyed) return 'closed';
    this.#buffer = '';
    this.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`,
    );
    for (;;) {
      const complete = /^HTTP\/1\.1 (\d{3})[^]*?\r\ncontent-length: (\d+)\r\n[^]*?\r\n\r\n/i.exec(
        this.#buffer,
      );
      if (complete && this.#buffer.length >= complete[0].length + Number(complete[2]))
        return Number(complete[1]);
      const event = await Promise.race([
        once(this.socket, 'data').then(() => 'data' as const),
        once(this.socket, 'close').then(() => 'close' as const),
      ]);
      // 'data' listeners run in order: ours (constructor) has appended the chunk by now.
      if (event === 'close') return 'closed';
    }
  }
}

test(
  'a good keep-alive client, idle between fetches, survives a flood of bad-token connections',
  { timeout: 20_000 },
  async (t) => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const store = new CredentialStore({ now: () => Date.now() });
    store.set({
      accessKeyId: 'AKIDCAPTEST',
      secretAccessKey: 'secret',
      sessionToken: 'session',
      expiration: new Date(Date.now() + 3_600_000),
    });
    const token = generateAuthToken();
    const max = 8;
    const server = createCredentialsServer({
      store,
      metrics,
      path: PATH,
      authToken: () => Buffer.from(token),
      maxConnections: max,
    });
    const { port } = await listen(server, '127.0.0.1', 0);
    const attackers: Client[] = [];
    t.after(async () => {
      for (const a of attackers) a.socket.destroy();
      await closeGracefully(server, 100);
    });

    const good = await Client.connect(port);
    assert.equal(await good.get(PATH, token), 200);
    // Silent connections first (what a flood looks like before its requests are read): they have
    // no answer yet, so they go before the good client, which has had one.
    const silent = await Promise.all(Array.from({ length: 3 * max }, () => Client.connect(port)));
    attackers.push(...silent);
    const mustGo = silent.length + 1 - max;
    await new Promise<void>((resolve) => {
      let closed = 0;
      for (const s of silent) s.socket.once('close', () => ++closed === mustGo && resolve());
    });
    assert.equal(await good.get(PATH, token), 200, 'the good client is served after the silent flood');
    // Waves of bad-token connections, all at once within a wave: some arrive before any of them
    // is answered (no answer yet), later ones find earlier ones refused. The good client is the
    // oldest idle connection throughout.
    for (let wave = 0; wave < 5; wave++) {
      const batch = await Promise.all(Array.from({ length: 3 * max }, () => Client.connect(port)));
      attackers.push(...batch);
      const answers = await Promise.all(batch.map((a) => a.get(PATH, 'wrong-token')));
      assert.ok(
        answers.every((a) => a === 401 || a === 'closed'),
        JSON.stringify(answers),
      );
      assert.equal(await good.get(PATH, token), 200, `the good client is served after wave ${wave + 1}`);
    }
    const dropped = await metrics.registry.getSingleMetricAsString('sts_sidecar_connections_dropped_total');
    const count = Number(/listener="credentials"\} (\d+)/.exec(dropped)?.[1]);
    assert.ok(count >= 6 * 3 * max + 1 - max, `${count} connections dropped`);
  },
);

test('a request-tracked server (ops, admission) also evicts the refused connection before an older served one', async (t) => {
  const server = createServer((req, res) => {
    const status = req.url === '/ok' ? 200 : 404;
    res.writeHead(status, { 'content-length': '0' }).end();
  });
  let evicted = 0;
  capConnections(server, { max: 2, onEvict: () => (evicted += 1) });
  const { port } = await listen(server, '127.0.0.1', 0);
  const clients: Client[] = [];
  t.after(async () => {
    for (const c of clients) c.socket.destroy();
    await closeGracefully(server, 100);
  });
  const served = await Client.connect(port);
  clients.push(served);
  assert.equal(await served.get('/ok'), 200);
  const refused = await Client.connect(port);
  clients.push(refused);
  assert.equal(await refused.get('/nope'), 404);

  const firstClosed = Promise.race([
    once(served.socket, 'close').then(() => 'served'),
    once(refused.socket, 'close').then(() => 'refused'),
  ]);
  const newcomer = await Client.connect(port);
  clients.push(newcomer);
  assert.equal(await firstClosed, 'refused', 'the refused connection goes, though the served one is older');
  assert.equal(evicted, 1);
  assert.equal(await served.get('/ok'), 200);
  assert.equal(await newcomer.get('/ok'), 200);
});
