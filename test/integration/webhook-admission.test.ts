// The admission server over real HTTPS with real AdmissionReview bodies; ServiceAccounts come
// through @kubernetes/client-node from test/fakes/fake-kube-api.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { loadWebhookConfig } from '../../src/config/webhook-config.ts';
import { createLogger } from '../../src/shared/log.ts';
import { MAX_ADMISSION_CONNECTIONS } from '../../src/webhook/admission-server.ts';
import { type RunningWebhook, startWebhookApp } from '../../src/webhook/webhook-app.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { FIXTURE_DIR, goldenWebhookArgs, loadFixture } from '../helpers/webhook-golden.ts';
import { createSelfSignedCert, type SelfSignedCert } from '../helpers/tls.ts';

interface Env {
  webhook: RunningWebhook;
  kube: FakeKubeApi;
  cert: SelfSignedCert;
  tlsDir: string;
  ca: string;
}

/** Webhook with the golden defaults, its TLS files in their own dir (so tests can rotate them). */
/** Where startEnv registers its cleanup: a TestContext, or a suite's after() hook. */
type Cleanups = { after: (fn: () => Promise<void>) => void };

async function startEnv(t: Cleanups, extraArgs: readonly string[] = []): Promise<Env> {
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  const tlsDir = (await createSelfSignedCert()).dir;
  await copyFile(cert.certFile, join(tlsDir, 'cert.pem'));
  await copyFile(cert.keyFile, join(tlsDir, 'key.pem'));
  const kubeconfig = await kube.writeKubeconfig(cert.dir);
  const config = loadWebhookConfig(
    [
      ...goldenWebhookArgs({
        certFile: join(tlsDir, 'cert.pem'),
        keyFile: join(tlsDir, 'key.pem'),
        kubeconfig,
      }),
      '--service-account-lookup-grace-ms=200',
      '--shutdown-grace-seconds=1',
      ...extraArgs,
    ],
    {},
  );
  const watching = kube.nextWatch();
  const webhook = await startWebhookApp(config, createLogger({ level: 'silent' }), { tlsPollIntervalMs: 50 });
  await watching;
  t.after(async () => {
    await webhook.shutdown('test');
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
    await rm(tlsDir, { recursive: true, force: true });
  });
  return { webhook, kube, cert, tlsDir, ca: cert.certPem };
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function post(env: Env, body: string | object, { method = 'POST', path = '/mutate' } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: env.webhook.admissionAddress.port,
        path,
        method,
        ca: env.ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

function reviewOf(pod: unknown, extra: Record<string, unknown> = {}): object {
  const namespace = (pod as { metadata?: { namespace?: string } }).metadata?.namespace ?? 'default';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'b3f1c2d4-0000-4000-8000-000000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace,
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      dryRun: false,
      ...extra,
    },
  };
}

async function opsGet(env: Env, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: env.webhook.opsAddress.port, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    })
      .on('error', reject)
      .end();
  });
}

test('webhook over HTTPS answers every golden case as the golden files say', async (t) => {
  const env = await startEnv(t);
  const names = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.pod.yaml'))
    .map((f) => f.slice(0, -'.pod.yaml'.length));
  assert.ok(names.length >= 10);
  for (const name of names) {
    const { pod, serviceAccount } = loadFixture(name);
    if (serviceAccount) env.kube.upsert(serviceAccount);
    const reply = await post(env, reviewOf(pod));
    assert.equal(reply.status, 200, name);
    assert.equal(reply.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(reply.body.kind, 'AdmissionReview');
    const response = reply.body.response as Record<string, unknown>;
    assert.equal(response.uid, 'b3f1c2d4-0000-4000-8000-000000000001');
    const denied = new URL(`${name}.denied.txt`, FIXTURE_DIR);
    if (existsSync(denied)) {
      assert.equal(response.allowed, false, name);
      assert.equal(`${(response.status as { message: string }).message}\n`, readFileSync(denied, 'utf8'));
      continue;
    }
    assert.equal(response.allowed, true, name);
    const golden = JSON.parse(readFileSync(new URL(`${name}.patch.json`, FIXTURE_DIR), 'utf8')) as unknown[];
    if (golden.length === 0) {
      assert.equal(response.patch, undefined, `${name}: no patch expected`);
      continue;
    }
    assert.equal(response.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(response.patch as string, 'base64').toString()), golden, name);
    if (name === 'user-env')
      assert.deepEqual(response.warnings, [
        'sts-sidecar: container "app" sets AWS_ROLE_ARN; AWS SDKs may use it instead of the sidecar\'s credentials.',
      ]);
  }
  const metrics = await opsGet(env, '/metrics');
  assert.match(metrics.text, /sts_sidecar_webhook_injections_total\{result="injected"\} 8/);
  assert.match(metrics.text, /sts_sidecar_webhook_injections_total\{result="rejected"\} 1/);
  assert.match(metrics.text, /sts_sidecar_webhook_injections_total\{result="already_injected"\} 1/);
  assert.match(metrics.text, /sts_sidecar_webhook_request_duration_seconds_count \d+/);
});

const malformed: { name: string; body: (pod: unknown) => string | object; message: RegExp }[] = [
  { name: 'not JSON', body: () => '{"apiVersion":', message: /not JSON/ },
  { name: 'JSON array', body: () => '[]', message: /not an AdmissionReview/ },
  {
    name: 'wrong kind',
    body: (pod) => ({ ...reviewOf(pod), kind: 'Pod' }),
    message: /kind must be "AdmissionReview"/,
  },
  {
    name: 'v1beta1',
    body: (pod) => ({ ...reviewOf(pod), apiVersion: 'admission.k8s.io/v1beta1' }),
    message: /admissionReviewVersions/,
  },
  { name: 'no uid', body: (pod) => reviewOf(pod, { uid: undefined }), message: /request\.uid is missing/ },
  { name: 'object not a pod', body: () => reviewOf({ spec: { containers: 'app' } }), message: /not a Pod/ },
  {
    name: 'containers without names',
    body: () => reviewOf({ spec: { containers: [{}] } }),
    message: /not a Pod/,
  },
];

// One test per malformed body, against one webhook, each followed by a good request: a bad
// body must get 400 with the JSON error body and leave the webhook serving.
describe('malformed AdmissionReviews get 400 with a clear body, and the webhook keeps serving', () => {
  let env: Env;
  const cleanups: Array<() => Promise<void>> = [];
  const pod = loadFixture('one-container').pod;
  before(async () => {
    env = await startEnv({ after: (fn) => void cleanups.push(fn) });
  });
  after(async () => {
    for (const fn of cleanups) await fn();
  });
  for (const c of malformed)
    it(c.name, async () => {
      const reply = await post(env, c.body(pod));
      assert.equal(reply.status, 400);
      assert.equal(reply.body.code, 'ADMISSION_REVIEW_INVALID');
      assert.equal(reply.body.Code, 'ADMISSION_REVIEW_INVALID');
      assert.match(reply.body.message as string, c.message);
      const ok = await post(env, reviewOf(pod));
      assert.equal((ok.body.response as { allowed: boolean }).allowed, true);
    });
  it('GET and another path get 405 and 404 with the same body shape; the probes still answer', async () => {
    const get = await post(env, '', { method: 'GET' });
    assert.equal(get.status, 405);
    assert.equal(get.body.code, 'HTTP_METHOD_NOT_ALLOWED');
    const other = await post(env, reviewOf(pod), { path: '/other' });
    assert.equal(other.status, 404);
    assert.equal(other.body.Code, 'HTTP_NOT_FOUND');
    assert.equal((await opsGet(env, '/healthz')).status, 200);
    assert.equal((await opsGet(env, '/readyz')).status, 200);
  });
});

test('UPDATE and non-Pod requests are allowed untouched', async (t) => {
  const env = await startEnv(t);
  const pod = loadFixture('one-container').pod;
  for (const extra of [
    { operation: 'UPDATE' },
    { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
  ]) {
    const response = (await post(env, reviewOf(pod, extra))).body.response as Record<string, unknown>;
    assert.equal(response.allowed, true);
    assert.equal(response.patch, undefined);
  }
});

test('a failing ServiceAccount GET rejects the pod with a retryable message', async (t) => {
  const env = await startEnv(t);
  env.kube.failGets(1);
  const pod = loadFixture('sa-annotations-only').pod;
  const response = (await post(env, reviewOf(pod))).body.response as Record<string, unknown>;
  assert.equal(response.allowed, false);
  assert.match(
    (response.status as { message: string }).message,
    /cannot read ServiceAccount analytics\/reporter/,
  );
});

function servedFingerprint(env: Env): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port: env.webhook.admissionAddress.port,
        rejectUnauthorized: false,
        servername: 'localhost',
      },
      () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint);
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

test('a request the HTTP parser refuses gets the JSON error body over TLS too', async (t) => {
  const env = await startEnv(t);
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: env.webhook.admissionAddress.port,
    ca: env.ca,
    servername: 'localhost',
  });
  let answer = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (answer += d));
  await once(socket, 'secureConnect');
  socket.write('POST /mutate HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
  await once(socket, 'close');
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  assert.match(head, /^HTTP\/1\.1 400 /);
  assert.match(head, /\r\ncontent-type: application\/json\r\n/);
  assert.equal(JSON.parse(body).code, 'HTTP_BAD_REQUEST');
});

test('a rotated certificate is served without a restart; a mismatched pair is refused', async (t) => {
  const env = await startEnv(t);
  const first = await servedFingerprint(env);
  const next = await createSelfSignedCert({ commonName: 'rotated' });
  t.after(() => rm(next.dir, { recursive: true, force: true }));

  // A key that does not match the served cert: refused, the old pair stays.
  const failed = once(env.webhook.tls, 'failed');
  await copyFile(next.keyFile, join(env.tlsDir, 'key.pem'));
  await failed;
  assert.equal(await servedFingerprint(env), first);

  const reloaded = once(env.webhook.tls, 'reloaded');
  await copyFile(next.certFile, join(env.tlsDir, 'cert.pem'));
  await reloaded;
  const now = await servedFingerprint(env);
  assert.notEqual(now, first);
  assert.equal(now, new (await import('node:crypto')).X509Certificate(next.certPem).fingerprint);
  assert.match(
    (await opsGet(env, '/metrics')).text,
    /sts_sidecar_webhook_tls_reloads_total\{result="success"\} 1/,
  );
});

test('after SIGTERM the webhook drains: /readyz is 503 while admission requests are still answered', async (t) => {
  // Under failurePolicy Ignore, an admission request that hits a closed port admits the pod
  // without the sidecar; the drain keeps the port answering while endpoints catch up.
  const env = await startEnv(t, ['--drain-seconds=3']);
  const { pod } = loadFixture('one-container');
  assert.equal((await opsGet(env, '/readyz')).status, 200);
  const stopped = env.webhook.shutdown('SIGTERM');
  const ready = await opsGet(env, '/readyz');
  assert.equal(ready.status, 503, 'unready as soon as the drain starts');
  const body = JSON.parse(ready.text) as Record<string, string>;
  assert.equal(body.code, 'HTTP_NOT_READY');
  assert.match(body.message!, /^Draining after SIGTERM/);
  const reply = await post(env, reviewOf(pod));
  assert.equal(reply.status, 200, 'admission still answered while draining');
  const response = reply.body.response as { allowed: boolean; patch?: string };
  assert.equal(response.allowed, true);
  assert.ok(response.patch, 'the pod is still injected while draining');
  await stopped;
  await assert.rejects(opsGet(env, '/readyz'), 'the ops listener is closed after the drain');
});

// Issue 13 (the class of item 9): any pod that reaches the webhook Service can open connections;
// idle ones beyond the cap are closed, oldest first, and the API server is still answered.
test('the admission listener caps its connections: the oldest idle ones go, reviews are answered', async (t) => {
  const env = await startEnv(t);
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const extra = 10;
  let closedByServer = 0;
  // Plain TCP connections that never start TLS: what a slow or hostile client holds open.
  const extraClosed = new Promise<void>((resolve) => {
    for (let i = 0; i < MAX_ADMISSION_CONNECTIONS + extra; i++) {
      const s = netConnect(env.webhook.admissionAddress.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => {
        closedByServer += 1;
        if (closedByServer === extra) resolve();
      });
      sockets.push(s);
    }
  });
  await extraClosed;
  assert.equal(
    sockets.slice(0, extra).every((s) => s.destroyed),
    true,
    'the oldest went first',
  );
  const dropped = await env.webhook.metrics.registry.getSingleMetricAsString(
    'sts_sidecar_webhook_connections_dropped_total',
  );
  assert.match(dropped, new RegExp(`sts_sidecar_webhook_connections_dropped_total ${extra}\\b`));
  const { pod } = loadFixture('one-container');
  const reply = await post(env, reviewOf(pod));
  assert.equal(reply.status, 200);
  assert.equal((reply.body.response as { allowed: boolean }).allowed, true);
});
