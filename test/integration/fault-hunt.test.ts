import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { CredentialStore } from '../../src/credentials/credential-store.ts';
import { SidecarMetrics } from '../../src/sidecar/sidecar-metrics.ts';
import { createCredentialsServer, MAX_CREDENTIAL_CONNECTIONS } from '../../src/sidecar/credentials-server.ts';
import { closeGracefully, listen } from '../../src/shared/http-lifecycle.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { goldenWebhookArgs } from '../helpers/webhook-golden.ts';
import { BUNDLE, SidecarProcess } from '../helpers/sidecar-process.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

// Regression tests for issue #13 (fault hunt), against the built sidecar over real sockets.

/** A port held by someone else for the test's duration. */
async function takenPort(t: { after: (fn: () => Promise<void>) => void }): Promise<number> {
  const squatter = createServer();
  const { port } = await listen(squatter, '127.0.0.1', 0);
  t.after(() => closeGracefully(squatter, 0).then(() => undefined));
  return port;
}

// Issue #13, item 3: with the ops port taken after the credentials listener bound, the sidecar
// logged start_failed and kept running.
test(
  'ops port taken after the credentials listener bound: exit 2 at once',
  { timeout: 30_000 },
  async (t) => {
    const port = await takenPort(t);
    await assert.rejects(
      SidecarProcess.start({ env: { STS_SIDECAR_OPS_PORT: String(port) }, signal: t.signal }),
      (error: Error) => {
        assert.match(error.message, /exited \(2\)/);
        assert.match(
          error.message,
          /LISTEN_FAILED: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)\. Change --ops-port/,
        );
        return true;
      },
    );
  },
);

// Issue #13, item 3: with --auth-token-source file, the auth token watcher kept a failed start alive.
test('--auth-token-source file and a taken port: exit 2 at once', { timeout: 30_000 }, async (t) => {
  const port = await takenPort(t);
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-auth-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'f'.repeat(64));
  await assert.rejects(
    SidecarProcess.start({
      env: {
        STS_SIDECAR_AUTH_TOKEN_SOURCE: 'file',
        STS_SIDECAR_AUTH_TOKEN_FILE: tokenFile,
        STS_SIDECAR_LISTEN_PORT: String(port),
      },
      signal: t.signal,
    }),
    /exited \(2\).*LISTEN_FAILED/s,
  );
});

// Issue #13, item 3: the webhook with its ops port taken kept running too.
test('webhook with its ops port taken: exit 2 at once', { timeout: 30_000 }, async (t) => {
  const port = await takenPort(t);
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  t.after(async () => {
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
  });
  const kubeconfig = await kube.writeKubeconfig(cert.dir);
  const child = spawn(
    process.execPath,
    [
      BUNDLE,
      'webhook',
      ...goldenWebhookArgs({ certFile: cert.certFile, keyFile: cert.keyFile, kubeconfig }),
      `--ops-port=${port}`,
    ],
    {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'ignore', 'pipe'],
      signal: t.signal,
      killSignal: 'SIGKILL',
    },
  );
  child.on('error', () => undefined); // the abort of a timed-out test
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2, stderr);
  assert.match(stderr, /LISTEN_FAILED/);
});

// Issue #13, item 1: `--flavor minio --duration-seconds 31536000` called STS ~200 times a second
// with a TimeoutOverflowWarning per call.
test('a year-long DurationSeconds: one exchange, no timer overflow', { timeout: 30_000 }, async (t) => {
  const p = await SidecarProcess.start({
    sts: { mode: 'minio' },
    env: { STS_SIDECAR_DURATION_SECONDS: '31536000', STS_SIDECAR_ROLE_ARN: undefined },
  });
  t.after(() => p.close());
  await p.ready();
  // Some real I/O round trips, during which a 1 ms timer would have fired many times over.
  const token = await p.authToken();
  for (let i = 0; i < 5; i++) {
    assert.equal((await fetch(p.credentialsUrl, { headers: { authorization: token } })).status, 200);
    await (await fetch(`${p.opsUrl}/metrics`)).text();
  }
  assert.equal(p.sts.requests.length, 1);
  assert.doesNotMatch(p.stderr, /TimeoutOverflowWarning/);
});

// Issue #13, item 5: SIGTERM waited for an in-flight STS call to time out (over two minutes
// with --sts-timeout-seconds 120), past Kubernetes' default 30 s grace.
test(
  'SIGTERM with STS hung and a 120 s timeout: the call is aborted and the process exits 0',
  { timeout: 30_000 },
  async (t) => {
    const p = await SidecarProcess.start({
      env: { STS_SIDECAR_STS_TIMEOUT_SECONDS: '120' },
      beforeSpawn: (sts) => sts.injectFault('hang'),
    });
    t.after(() => p.close());
    await p.sts.waitForRequests(1);
    const stopped = p.waitFor((l) => l.event === 'stopped');
    p.child.kill('SIGTERM');
    await stopped;
    assert.equal(await p.exited, 0);
    assert.equal(
      p.lines.some((l) => l.event === 'exchange'),
      false,
      'the aborted call is not reported as an STS failure',
    );
  },
);

// Issue #13, item 8: Java SDKs read lowercase code/message (`Error Code: null` otherwise), and
// aws-sdk-js v2 sleeps for Retry-After between retries (up to ~90 s with our old 30 s cap).
test(
  'a 503 while the next exchange is minutes away: Retry-After 1 and a body every SDK reads',
  { timeout: 30_000 },
  async (t) => {
    const p = await SidecarProcess.start({
      beforeSpawn: (sts) => sts.injectFault({ code: 'AccessDenied', status: 403 }),
    });
    t.after(() => p.close());
    const failed = await p.waitFor((l) => l.event === 'exchange' && l.result === 'failure');
    assert.ok(Date.parse(String(failed.nextAttemptAt)) - Date.now() > 60_000, 'next attempt minutes away');
    const res = await fetch(p.credentialsUrl, { headers: { authorization: await p.authToken() } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.Code, 'NO_VALID_CREDENTIALS');
    assert.equal(body.code, 'NO_VALID_CREDENTIALS');
    assert.equal(body.message, body.Message);
    assert.ok(body.message);
  },
);

// Issue #13, item 9: listen() left its once('error') listener attached, so the first server
// error after listening was swallowed.
test('listen() leaves no error listener behind', async (t) => {
  const server = createServer();
  const before = { error: server.listenerCount('error'), listening: server.listenerCount('listening') };
  await listen(server, '127.0.0.1', 0);
  t.after(() => closeGracefully(server, 0).then(() => undefined));
  assert.deepEqual(
    { error: server.listenerCount('error'), listening: server.listenerCount('listening') },
    before,
  );
  // So a later error reaches whoever handles it, or is thrown as an unhandled 'error' event.
  assert.throws(() => server.emit('error', new Error('later')), /later/);
});

// Issue #13, item 9: 10 000 idle connections took RSS from 66 to 287 MiB.
test(
  'the credentials endpoint caps its connections: the oldest idle ones go, newcomers are served',
  { timeout: 30_000 },
  async (t) => {
    const metrics = new SidecarMetrics({ processMetrics: false });
    const server: Server = createCredentialsServer({
      store: new CredentialStore({ now: () => Date.now() }),
      metrics,
      path: '/v1/credentials',
      authToken: () => Buffer.from('x'.repeat(64)),
    });
    const { port } = await listen(server, '127.0.0.1', 0);
    const sockets: Socket[] = [];
    t.after(async () => {
      for (const s of sockets) s.destroy();
      await closeGracefully(server, 0);
    });
    const extra = 10;
    let closedByServer = 0;
    const allExtraClosed = new Promise<void>((resolve) => {
      for (let i = 0; i < MAX_CREDENTIAL_CONNECTIONS + extra; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => {
          closedByServer += 1;
          if (closedByServer === extra) resolve();
        });
        sockets.push(s);
      }
    });
    await allExtraClosed;
    const dropped = await metrics.registry.getSingleMetricAsString('sts_sidecar_connections_dropped_total');
    assert.match(dropped, new RegExp(`listener="credentials"} ${extra}\\b`));
    // The oldest idle ones made room; the newest are still answered, and so is a newcomer.
    assert.equal(
      sockets.slice(0, extra).every((s) => s.destroyed),
      true,
      'the oldest went first',
    );
    for (const s of [sockets.at(-1)!, connect(port, '127.0.0.1')]) {
      sockets.push(s);
      s.write('GET /v1/credentials HTTP/1.1\r\nHost: x\r\n\r\n');
      const [line] = (await once(createInterface({ input: s }), 'line')) as [string];
      assert.match(line, /^HTTP\/1\.1 401/);
    }
  },
);
