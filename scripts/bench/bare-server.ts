// The baseline for `npm run bench`: a bare node:http server that answers every request with one
// pre-serialised JSON buffer (the sidecar's own credentials body, passed in BENCH_BODY_B64) and
// the same response headers the sidecar writes. No routing, no auth, no metrics.
// Prints {"port": N} on stdout once listening; exits when stdin closes (so it never outlives
// the bench, even if the bench is killed).
import { createServer } from 'node:http';
import { url as inspectorUrl } from 'node:inspector';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(process.env.BENCH_BODY_B64 ?? '', 'base64');
const headers = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'content-length': String(body.length),
};

const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  // The inspector URL (under --inspect) lets the bench force a GC and read the heap here too.
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ port, inspector: inspectorUrl() })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
