import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it, test } from 'node:test';
import { generateAuthToken } from '../../src/sidecar/auth-token.ts';
import { createCredentialsServer } from '../../src/sidecar/credentials-server.ts';
import { closeGracefully, listen } from '../../src/shared/http-lifecycle.ts';
import { createSidecarOpsServer } from '../../src/sidecar/sidecar-app.ts';
import { EngineHarness } from '../helpers/engine-harness.ts';

const MIN = 60_000;
const PATH = '/v1/credentials';

interface Served {
  h: EngineHarness;
  token: string;
  base: string;
  ops: string;
}

/** The engine on a virtual clock plus both real listeners on 127.0.0.1:0. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, options = {}): Promise<Served> {
  const h = await EngineHarness.create(options);
  const token = generateAuthToken();
  const credentials = createCredentialsServer({
    store: h.sidecar.store,
    metrics: h.metrics,
    path: PATH,
    authToken: () => Buffer.from(token),
  });
  const ops = createSidecarOpsServer({ store: h.sidecar.store, metrics: h.metrics });
  const a = await listen(credentials, '127.0.0.1', 0);
  const b = await listen(ops, '127.0.0.1', 0);
  t.after(async () => {
    await closeAll(credentials, ops);
    await h.close();
  });
  return { h, token, base: `http://127.0.0.1:${a.port}`, ops: `http://127.0.0.1:${b.port}` };
}

async function closeAll(...servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => closeGracefully(s, 100)));
}

/** One raw request (node:http, so any method, header or body can be sent). */
function call(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

test(
  '503 before the first exchange, 200 after, 431 for oversized headers; each counted',
  { timeout: 20_000 },
  async (t) => {
    const { h, token, base } = await serve(t);
    const url = `${base}${PATH}`;
    const auth = { authorization: token };

    const before = await call(url, { headers: auth });
    assert.equal(before.status, 503, 'no credentials before the first exchange');
    // Issue #13, item 8: a 503 fails fast (aws-sdk-js v2 sleeps for Retry-After between retries).
    assert.equal(before.headers['retry-after'], '1');
    assert.equal(JSON.parse(before.body).Code, 'NO_VALID_CREDENTIALS');

    await h.rotateToken();
    await h.sidecar.start();
    const ok = await call(url, { headers: auth });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.equal(ok.headers['cache-control'], 'no-store');
    const issued = h.sts.issued!;
    assert.deepEqual(JSON.parse(ok.body), {
      AccessKeyId: issued.accessKeyId,
      SecretAccessKey: issued.secretAccessKey,
      Token: issued.sessionToken,
      Expiration: issued.expiration.toISOString(),
    });
    assert.match(
      JSON.parse(ok.body).Expiration,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      'Z form, as the JS SDK needs',
    );

    const big = await call(url, { headers: { ...auth, 'x-padding': 'a'.repeat(64 * 1024) } });
    assert.equal(big.status, 431, '64 KiB of headers is refused');
    assert.equal(big.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(big.body).code, 'HTTP_HEADERS_TOO_LARGE');

    const metric = await h.metrics.registry.getSingleMetricAsString('sts_sidecar_credential_requests_total');
    for (const [status, count] of [
      ['200', 1],
      ['503', 1],
      ['431', 1],
    ] as const)
      assert.match(metric, new RegExp(`status="${status}"} ${count}\\b`), `counted ${status}`);
  },
);

const refusals: Array<[string, (token: string) => Parameters<typeof call>[1], string, number, string]> = [
  ['no Authorization header', () => ({}), PATH, 401, 'HTTP_UNAUTHORIZED'],
  [
    'wrong token, same length',
    () => ({ headers: { authorization: generateAuthToken() } }),
    PATH,
    401,
    'HTTP_UNAUTHORIZED',
  ],
  [
    'wrong token, other length',
    (token) => ({ headers: { authorization: `${token}x` } }),
    PATH,
    401,
    'HTTP_UNAUTHORIZED',
  ],
  [
    'token with a Bearer prefix',
    (token) => ({ headers: { authorization: `Bearer ${token}` } }),
    PATH,
    401,
    'HTTP_UNAUTHORIZED',
  ],
  // Node keeps the first of two Authorization headers; the endpoint refuses the ambiguity.
  [
    'two Authorization headers',
    (token) => ({ headers: { authorization: [token, token] } }),
    PATH,
    401,
    'HTTP_UNAUTHORIZED',
  ],
  [
    'wrong path',
    (token) => ({ headers: { authorization: token } }),
    '/v1/credentialsX',
    404,
    'HTTP_NOT_FOUND',
  ],
  [
    'POST',
    (token) => ({ method: 'POST', headers: { authorization: token } }),
    PATH,
    405,
    'HTTP_METHOD_NOT_ALLOWED',
  ],
  [
    'a body',
    (token) => ({ headers: { authorization: token, 'content-length': '1' }, body: 'x' }),
    PATH,
    400,
    'HTTP_BODY_NOT_ALLOWED',
  ],
  [
    'a chunked body',
    (token) => ({ headers: { authorization: token, 'transfer-encoding': 'chunked' }, body: 'x' }),
    PATH,
    400,
    'HTTP_BODY_NOT_ALLOWED',
  ],
  [
    'X-Forwarded-For',
    (token) => ({ headers: { authorization: token, 'x-forwarded-for': '10.0.0.1' } }),
    PATH,
    403,
    'HTTP_PROXIED_REQUEST_REFUSED',
  ],
];
// One test per refusal, against one endpoint that holds servable credentials, so a refusal can
// only come from its cause; each also checks that it is counted under its status.
describe('every refusal comes from its cause, with the JSON error body and its count', () => {
  let served: Served;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    served = await serve({ after: (fn) => cleanups.push(fn) });
    await served.h.rotateToken();
    await served.h.sidecar.start();
  });
  after(async () => {
    for (const fn of cleanups) await fn();
  });
  for (const [name, options, path, status, code] of refusals)
    it(name, async () => {
      const counted = (): Promise<number> => requestCount(served.h, status);
      const before = await counted();
      const r = await call(`${served.base}${path}`, options(served.token));
      assert.equal(r.status, status);
      const body = JSON.parse(r.body) as Record<string, string>;
      assert.equal(body.Code, code);
      // Issue #13, item 8: both AWS Java SDKs read lowercase code/message.
      assert.equal(body.code, code);
      assert.equal(body.message, body.Message);
      assert.equal(await counted(), before + 1);
    });
});

/** sts_sidecar_credential_requests_total for one status (0 before its first request). */
async function requestCount(h: EngineHarness, status: number): Promise<number> {
  const text = await h.metrics.registry.getSingleMetricAsString('sts_sidecar_credential_requests_total');
  return Number(new RegExp(`status="${status}"} (\\d+)`).exec(text)?.[1] ?? 0);
}

test(
  'short-lived credentials with STS down: no response over their whole life serves expired ones',
  { timeout: 60_000 },
  async (t) => {
    const { h, token, base } = await serve(t, { credentialLifetimeSeconds: 900 });
    await h.sidecar.start();
    const held = h.sidecar.store.servable()!;
    const expiresAt = held.expiration.getTime();
    h.sts.injectFault('http503', { times: 100_000 });
    const counts = { 200: 0, 503: 0 };
    // Walk the whole life in 10 s steps, plus the instants around the 60 s margin, and ask each time.
    const instants = new Set<number>();
    for (let at = h.clock.now(); at < expiresAt + 2 * MIN; at += 10_000) instants.add(at);
    for (const d of [-1, 0, 1]) instants.add(expiresAt - MIN + d);
    for (const at of [...instants].sort((a, b) => a - b)) {
      // Let due refresh attempts fail first, as they would in real time.
      while (h.sidecar.scheduler.nextAttemptAt !== undefined && h.sidecar.scheduler.nextAttemptAt <= at)
        await h.runNextAttempt();
      h.clock.advanceTo(at);
      const r = await call(`${base}${PATH}`, { headers: { authorization: token } });
      if (r.status === 200) {
        counts[200]++;
        const served = new Date(JSON.parse(r.body).Expiration).getTime();
        assert.ok(served - h.clock.now() >= MIN, `served with ${served - h.clock.now()} ms left`);
      } else {
        assert.equal(r.status, 503);
        counts[503]++;
        assert.ok(expiresAt - h.clock.now() < MIN, `503 while ${expiresAt - h.clock.now()} ms were left`);
      }
    }
    assert.ok(counts[200] > 50 && counts[503] > 5, JSON.stringify(counts));
  },
);

test(
  '/readyz flips to 200 after the first exchange and back to 503 when credentials run out; /healthz never depends on STS',
  { timeout: 30_000 },
  async (t) => {
    const { h, ops } = await serve(t, { credentialLifetimeSeconds: 900 });
    const notReady = await call(`${ops}/readyz`);
    assert.equal(notReady.status, 503);
    assert.equal(notReady.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(notReady.body).code, 'HTTP_NOT_READY');
    assert.match(JSON.parse(notReady.body).message, /No credentials with at least 60 s left/);
    assert.equal((await call(`${ops}/healthz`)).status, 200);
    await h.sidecar.start();
    assert.equal((await call(`${ops}/readyz`)).status, 200);
    h.sts.injectFault('reset', { times: 100_000 });
    const expiresAt = h.sidecar.store.servable()!.expiration.getTime();
    while (h.clock.now() < expiresAt - MIN) {
      assert.equal((await call(`${ops}/readyz`)).status, 200);
      await h.runNextAttempt();
    }
    h.clock.advanceTo(expiresAt - MIN + 1);
    assert.equal((await call(`${ops}/readyz`)).status, 503);
    assert.equal((await call(`${ops}/healthz`)).status, 200, 'STS down does not make the sidecar unhealthy');
    const metrics = await call(`${ops}/metrics`);
    assert.equal(metrics.status, 200);
    for (const name of [
      'sts_sidecar_exchanges_total',
      'sts_sidecar_exchange_duration_seconds_bucket',
      'sts_sidecar_credentials_expiry_timestamp_seconds',
      'sts_sidecar_token_expiry_timestamp_seconds',
      'sts_sidecar_last_success_timestamp_seconds',
      'sts_sidecar_credential_requests_total',
      'sts_sidecar_token_read_errors_total',
    ])
      assert.ok(metrics.body.includes(name), name);
    assert.match(metrics.body, /sts_sidecar_exchanges_total\{result="failure",code="STS_UNREACHABLE"\} \d+/);
  },
);

test('a slowloris client is cut off while good clients are served', { timeout: 20_000 }, async (t) => {
  const { h, token, base } = await serve(t);
  await h.sidecar.start();
  const { port } = new URL(base);
  const slow = connect(Number(port), '127.0.0.1');
  await once(slow, 'connect');
  slow.write('GET /v1/credentials HTTP/1.1\r\nHost: x\r\n'); // and never finish the headers
  const good = await call(`${base}${PATH}`, { headers: { authorization: token } });
  assert.equal(good.status, 200);
  // The server's headers timeout ends it; awaiting 'close' fails the test by timeout if it never does.
  let answer = '';
  slow.on('data', (d: Buffer) => {
    answer += d.toString();
  });
  await once(slow, 'close');
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.equal(jsonBodyOf(answer).Code, 'HTTP_REQUEST_TIMEOUT');
});

/** Sends `text` on a new connection and returns everything the server sends until it closes. */
async function rawExchange(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    answer += d;
  });
  await once(socket, 'connect');
  socket.write(text);
  await once(socket, 'close');
  return answer;
}

/** The JSON body of a raw HTTP/1.1 answer, after checking its head says so. */
function jsonBodyOf(answer: string): Record<string, string> {
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  assert.match(head, /\r\ncontent-type: application\/json\r\n/i);
  assert.match(head, /\r\nconnection: close\r\n/i);
  assert.equal(Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]), Buffer.byteLength(body));
  return JSON.parse(body) as Record<string, string>;
}

// Requests node:http cannot parse get the JSON error body every other error has, on both
// listeners (Node's own answer is an empty plain-text response).
const unparsable: Array<[string, string, number, string]> = [
  ['a request line that is not HTTP', 'HELLO\r\n\r\n', 400, 'HTTP_BAD_REQUEST'],
  ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, 'HTTP_BAD_REQUEST'],
  [
    'headers larger than the listener reads',
    `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    431,
    'HTTP_HEADERS_TOO_LARGE',
  ],
];
for (const listener of ['credentials', 'ops'] as const)
  for (const [name, text, status, code] of unparsable)
    test(`${listener} listener: ${name} is answered ${status} with the JSON error body`, async (t) => {
      const { h, base, ops } = await serve(t);
      const { port } = new URL(listener === 'credentials' ? base : ops);
      const answer = await rawExchange(Number(port), text);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      const body = jsonBodyOf(answer);
      assert.deepEqual(Object.keys(body).sort(), ['Code', 'Message', 'code', 'message']);
      assert.equal(body.Code, code);
      assert.equal(body.code, code);
      assert.ok(body.message!.length > 0);
      if (listener === 'credentials') {
        const metric = await h.metrics.registry.getSingleMetricAsString(
          'sts_sidecar_credential_requests_total',
        );
        assert.match(metric, new RegExp(`status="${status}"} 1\\b`), 'counted');
      }
    });
