// Bench section 4: abusive local clients, and whether the sidecar's memory comes back.
// Each round sends, at once: 1000 keep-alive connections with a wrong token (held open until
// every one has its answer), 100 requests with no token, 10 requests with a 64 KiB header and
// (sidecar only) 20 slowloris connections that trickle header lines until the server cuts them
// off; a good client keeps fetching credentials throughout. After each round every abusive
// socket is closed and the heap is read after a forced full GC through the inspector
// (inspector.ts), so the figure is what the process still holds, not what V8 has yet to collect.
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';

const KEEP_ALIVE_CONNECTIONS = 1000;
const NO_AUTH_REQUESTS = 100;
const BIG_HEADER_REQUESTS = 10;
const BIG_HEADER_BYTES = 64 * 1024;
const SLOWLORIS_CONNECTIONS = 20;
/** A slowloris client sends one more header line this often (well under the 5 s headersTimeout). */
const SLOWLORIS_TRICKLE_MS = 500;

export interface AbuseRoundResult {
  /** Good-client requests answered 200 / not, while the abuse ran. */
  goodOk: number;
  goodFailed: number;
  /** Status of each abusive request, e.g. {"401": 1000, "431": 10}. */
  statuses: Record<string, number>;
  /** How long the server let each slowloris connection live. */
  slowlorisCutAfterMs: number[];
}

const request = (path: string, headers: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;

/** Sends one raw request; resolves with the status (or "closed") and the still-open socket. */
async function rawRequest(port: number, text: string): Promise<{ status: string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(text);
  const status = await new Promise<string>((resolve) => {
    socket.once('data', (chunk: Buffer) =>
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? '?'),
    );
    socket.once('close', () => resolve('closed'));
  });
  return { status, socket };
}

async function slowloris(port: number, path: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const started = performance.now();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  let n = 0;
  const trickle = setInterval(() => socket.write(`X-Slow-${n++}: 1\r\n`), SLOWLORIS_TRICKLE_MS);
  socket.resume();
  await once(socket, 'close');
  clearInterval(trickle);
  return performance.now() - started;
}

/** One round against `port`; `goodAuthorization` is the sidecar's token (any value for bare). */
export async function abuseRound(
  port: number,
  path: string,
  goodAuthorization: string,
  withSlowloris: boolean,
): Promise<AbuseRoundResult> {
  const result: AbuseRoundResult = { goodOk: 0, goodFailed: 0, statuses: {}, slowlorisCutAfterMs: [] };
  const tally = (status: string) => (result.statuses[status] = (result.statuses[status] ?? 0) + 1);

  let abusing = true;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const goodClient = (async () => {
    while (abusing) {
      const status = await new Promise<number>((resolve) => {
        get(
          `http://127.0.0.1:${port}${path}`,
          { agent, headers: { authorization: goodAuthorization } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        ).on('error', () => resolve(0));
      });
      if (status === 200) result.goodOk++;
      else result.goodFailed++;
    }
  })();

  const slow = withSlowloris
    ? Promise.all(Array.from({ length: SLOWLORIS_CONNECTIONS }, () => slowloris(port, path)))
    : Promise.resolve([]);
  const held = await Promise.all([
    ...Array.from({ length: KEEP_ALIVE_CONNECTIONS }, () =>
      rawRequest(port, request(path, 'Authorization: wrong\r\n')),
    ),
    ...Array.from({ length: NO_AUTH_REQUESTS }, () => rawRequest(port, request(path, ''))),
    ...Array.from({ length: BIG_HEADER_REQUESTS }, () =>
      rawRequest(
        port,
        request(path, `Authorization: ${goodAuthorization}\r\nX-Pad: ${'a'.repeat(BIG_HEADER_BYTES)}\r\n`),
      ),
    ),
  ]);
  for (const { status } of held) tally(status);
  result.slowlorisCutAfterMs = await slow;
  abusing = false;
  await goodClient;
  agent.destroy();
  await Promise.all(
    held.map(({ socket }) => {
      if (socket.destroyed) return undefined;
      const closed = once(socket, 'close');
      socket.destroy();
      return closed;
    }),
  );
  return result;
}
