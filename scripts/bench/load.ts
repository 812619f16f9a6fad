// Load generator for `npm run bench`, run as its own process (pinned to a core by the bench).
// Raw TCP sockets and a minimal HTTP/1.1 response parser, so the client costs as little CPU as
// possible: one request in flight per connection, either keep-alive (one socket per connection
// slot for the whole run) or a new connection per request (`Connection: close`).
//
// Protocol: one JSON RunSpec per line on stdin, one JSON RunResult per line on stdout; prints
// {"ready":true} at start. Exits when stdin closes.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface RunSpec {
  host: string;
  port: number;
  path: string;
  /** Value of the Authorization header; omitted when undefined. */
  authorization?: string;
  connections: number;
  durationMs: number;
  keepAlive: boolean;
}

export interface RunResult {
  /** Complete responses received (any status). */
  responses: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Socket errors and unexpected closes. */
  errors: number;
  /** From the first request to the last response. */
  elapsedMs: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load generator itself used, as a share of one core (tells whether it was the bottleneck). */
  clientCpuShare: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const GRACE_MS = 5_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function run(spec: RunSpec): Promise<RunResult> {
  const request = Buffer.from(
    `GET ${spec.path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\n` +
      (spec.authorization === undefined ? '' : `Authorization: ${spec.authorization}\r\n`) +
      (spec.keepAlive ? '' : 'Connection: close\r\n') +
      '\r\n',
    'latin1',
  );
  let latencies = new Float64Array(1 << 20);
  let responses = 0;
  let errors = 0;
  const statuses: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + spec.durationMs;
  let lastResponseAt = start;

  const record = (status: string, latencyMs: number): void => {
    if (responses === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[responses++] = latencyMs;
    statuses[status] = (statuses[status] ?? 0) + 1;
  };

  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(hardStop);
      for (const s of sockets) s.destroy();
      const cpu = process.cpuUsage(cpuStart);
      const elapsedMs = lastResponseAt - start;
      const sorted = latencies.subarray(0, responses).sort();
      resolve({
        responses,
        statuses,
        errors,
        elapsedMs,
        reqPerSec: elapsedMs > 0 ? (responses * 1000) / elapsedMs : 0,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        clientCpuShare: (cpu.user + cpu.system) / 1000 / (performance.now() - start),
      });
    };
    // A server that stops answering must not hang the bench.
    const hardStop = setTimeout(finish, spec.durationMs + GRACE_MS);

    const open = (): void => {
      let sentAt = performance.now();
      let pending: Buffer | undefined;
      let closingOnPurpose = false;
      const socket = connect({ host: spec.host, port: spec.port, noDelay: true });
      sockets.add(socket);
      const send = (): void => {
        sentAt = performance.now();
        socket.write(request);
      };
      // New-connection latency includes the TCP connect, as a client would see it.
      socket.once('connect', () => (spec.keepAlive ? send() : socket.write(request)));
      socket.on('data', (chunk: Buffer) => {
        let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
        pending = undefined;
        for (;;) {
          const headerEnd = buf.indexOf(HEADER_END);
          if (headerEnd < 0) break;
          const head = buf.toString('latin1', 0, headerEnd).toLowerCase();
          const at = head.indexOf('\r\ncontent-length:');
          const total = headerEnd + 4 + (at < 0 ? 0 : Number.parseInt(head.slice(at + 17), 10));
          if (buf.length < total) break;
          const now = performance.now();
          lastResponseAt = now;
          record(head.slice(9, 12), now - sentAt);
          buf = buf.subarray(total);
          if (spec.keepAlive && now < deadline) {
            send();
          } else {
            closingOnPurpose = true;
            socket.destroy();
            if (now < deadline) open();
            return;
          }
        }
        if (buf.length > 0) pending = buf;
      });
      socket.on('error', () => {
        errors++;
      });
      socket.on('close', () => {
        sockets.delete(socket);
        if (!closingOnPurpose) {
          if (performance.now() < deadline) {
            errors++;
            setImmediate(open);
            return;
          }
        }
        if (sockets.size === 0 && performance.now() >= deadline) finish();
      });
    };
    for (let i = 0; i < spec.connections; i++) open();
  });
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) return;
  const spec = JSON.parse(line) as RunSpec;
  queue = queue.then(async () => {
    const result = await run(spec);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
});
lines.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
