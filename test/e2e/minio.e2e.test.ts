import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, type TestContext, test } from 'node:test';
import { isSidecarError, type SidecarError } from '../../src/errors.ts';
import { StsExchanger } from '../../src/sts/exchanger.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';
import { findMinioBinary, type MinioMode, MinioServer } from '../helpers/minio-server.ts';

// Issue 4, MinIO part: the built sidecar against a real MinIO (built by .ci/peers/minio.sh), with
// real clients (boto3, the aws CLI, aws-sdk-js-v3) doing S3 I/O with what it serves, through a
// kubelet-style token rotation and credential refreshes, then tokens MinIO rejects.

const BUNDLE = new URL('../../dist/sts-sidecar.mjs', import.meta.url).pathname;
const REPO = new URL('../..', import.meta.url).pathname;
const AUDIENCE = 'sts.example.test';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;
/** MinIO's minimum (cmd/sts-handlers.go); short on purpose, the refresh below is forced anyway. */
const DURATION_SECONDS = '900';
/** Forces a refresh every few seconds, so one happens inside each test. */
const MAX_REFRESH_INTERVAL_SECONDS = '3';
const timeout = 180_000;

const minioBinary = findMinioBinary();
const clientsMissing = (() => {
  const boto3 = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
  const aws = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (boto3.status !== 0 || aws.status !== 0)
    return 'boto3 or the aws CLI is missing: run bash .ci/install-test-clients.sh';
  return undefined;
})();
const skip = !minioBinary
  ? 'MinIO not installed: run bash .ci/peers/minio.sh install (or set STS_SIDECAR_MINIO_BIN)'
  : clientsMissing;

type LogLine = Record<string, unknown>;

/** The built sidecar as a child process against MinIO, configured by env only, as a user would. */
class MinioSidecar {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  readonly authTokenFile: string;
  stderr = '';
  credentialsUrl = '';
  opsUrl = '';
  readonly #child: ChildProcess;
  readonly #waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  constructor(env: NodeJS.ProcessEnv, authDir: string) {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
    this.authTokenFile = join(authDir, 'token');
    this.#child = spawn(process.execPath, [BUNDLE], {
      env: { PATH: process.env.PATH, ...env, STS_SIDECAR_AUTH_TOKEN_FILE: this.authTokenFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    createInterface({ input: this.#child.stdout! }).on('line', (text) => {
      if (!text.trim()) return;
      const line = JSON.parse(text) as LogLine;
      this.lines.push(line);
      for (const w of [...this.#waiters])
        if (w.match(line)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(line);
        }
    });
    this.exited = new Promise((resolve) => this.#child.on('exit', resolve));
  }

  /** The first line matching `match` from index `from` on (already seen or still to come). */
  waitFor(match: (l: LogLine) => boolean, from = 0): Promise<LogLine> {
    const seen = this.lines.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ match: (l) => this.lines.indexOf(l) >= from && match(l), resolve });
      void this.exited.then((code) => reject(new Error(`sidecar exited (${code}); stderr: ${this.stderr}`)));
    });
  }

  async listening(): Promise<void> {
    const l = await this.waitFor((x) => x.event === 'listening');
    this.credentialsUrl = String(l.credentialsUrl);
    this.opsUrl = String(l.opsUrl);
  }

  /** GET the credentials endpoint as an SDK would (auth token from the file). */
  async credentials(): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(this.credentialsUrl, {
      headers: { authorization: await readFile(this.authTokenFile, 'utf8') },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Env an app container gets: FULL_URI + TOKEN_FILE, never AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  clientEnv(home: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: this.credentialsUrl,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: this.authTokenFile,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      // No SDK retries: a failed S3 call must show up as failed, not be retried away.
      AWS_MAX_ATTEMPTS: '1',
    };
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await this.exited;
  }
}

const isSuccess = (l: LogLine) => l.event === 'exchange' && l.result === 'success';
const isFailure = (l: LogLine) => l.event === 'exchange' && l.result === 'failure';
const errCode = (l: LogLine) => String((l.err as { code?: unknown } | undefined)?.code);

/** Value of `sts_sidecar_exchanges_total{result="failure",code=<code>}` (0 when absent). */
async function failureCount(opsUrl: string, code: string): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('sts_sidecar_exchanges_total{') &&
        l.includes('result="failure"') &&
        l.includes(`code="${code}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

// --- Real S3 clients. Each prints one JSON line per S3 call: {op, ok, accessKeyId, error}.

interface S3Call {
  client: string;
  op: string;
  ok: boolean;
  /** The access key the request was signed with (read from its Authorization header). */
  accessKeyId: string | null;
  error?: string;
}

const BOTO3_SCRIPT = `
import json, os, re, sys, time
import boto3
from botocore.config import Config
endpoint, bucket, stop_file = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
s3 = boto3.Session().client('s3', endpoint_url=endpoint,
    config=Config(retries={'total_max_attempts': 1}, s3={'addressing_style': 'path'}))
used = {}
def capture(request, **kwargs):
    auth = request.headers.get('Authorization', b'')
    auth = auth.decode() if isinstance(auth, bytes) else auth
    m = re.search(r'Credential=([^/]+)/', auth)
    used['key'] = m.group(1) if m else None
s3.meta.events.register('before-send.s3', capture)
def call(op, fn):
    used['key'] = None
    try:
        fn()
        print(json.dumps({'op': op, 'ok': True, 'accessKeyId': used['key']}), flush=True)
    except Exception as e:
        print(json.dumps({'op': op, 'ok': False, 'accessKeyId': used['key'], 'error': f'{type(e).__name__}: {e}'}), flush=True)
body = b'written by boto3'
def get():
    got = s3.get_object(Bucket=bucket, Key='boto3.txt')['Body'].read()
    if got != body: raise ValueError(f'read back {got!r}')
def list_():
    keys = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket).get('Contents', [])]
    if 'boto3.txt' not in keys: raise ValueError(f'listed {keys}')
call('CreateBucket', lambda: s3.create_bucket(Bucket=bucket))
while True:
    call('PutObject', lambda: s3.put_object(Bucket=bucket, Key='boto3.txt', Body=body))
    call('GetObject', get)
    call('ListObjects', list_)
    if stop_file is None or os.path.exists(stop_file): break
    time.sleep(0.1)  # client pacing while the test switches credentials underneath it
`;

// aws-sdk-js-v3: the default provider chain (fromHttp reads FULL_URI + TOKEN_FILE) and the SDK's
// own SigV4 signer; the S3 calls themselves go through fetch, as @aws-sdk/client-s3 is not a dependency.
const JS_SCRIPT = `
import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
class Sha256 {
  constructor(secret) { this.h = secret ? createHmac('sha256', secret) : createHash('sha256'); }
  update(data) { this.h.update(data); }
  async digest() { return new Uint8Array(this.h.digest()); }
}
const [endpoint, bucket] = process.argv.slice(1);
const url = new URL(endpoint);
const signer = new SignatureV4({ credentials: defaultProvider(), region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
const body = 'written by aws-sdk-js-v3';
async function s3(method, path, query = {}, payload = '') {
  const signed = await signer.sign({
    method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query,
    headers: { host: url.host, 'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex') },
    body: payload,
  });
  const accessKeyId = /Credential=([^/]+)\\//.exec(signed.headers.authorization)?.[1] ?? null;
  const { host, ...headers } = signed.headers;
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(endpoint + path + (qs ? '?' + qs : ''), { method, headers, ...(payload ? { body: payload } : {}) });
  const text = await res.text();
  if (!res.ok) throw Object.assign(new Error('HTTP ' + res.status + ' ' + text.slice(0, 300)), { accessKeyId });
  return { text, accessKeyId };
}
async function call(op, fn) {
  try {
    const { accessKeyId } = await fn();
    console.log(JSON.stringify({ op, ok: true, accessKeyId }));
  } catch (e) {
    console.log(JSON.stringify({ op, ok: false, accessKeyId: e.accessKeyId ?? null, error: String(e.message ?? e) }));
  }
}
await call('CreateBucket', () => s3('PUT', '/' + bucket));
await call('PutObject', () => s3('PUT', '/' + bucket + '/js.txt', {}, body));
await call('GetObject', async () => {
  const r = await s3('GET', '/' + bucket + '/js.txt');
  if (r.text !== body) throw Object.assign(new Error('read back ' + r.text), r);
  return r;
});
await call('ListObjects', async () => {
  const r = await s3('GET', '/' + bucket, { 'list-type': '2' });
  if (!r.text.includes('<Key>js.txt</Key>')) throw Object.assign(new Error('listed ' + r.text), r);
  return r;
});
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function parseCalls(client: string, r: Run): S3Call[] {
  const calls = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => ({ client, ...(JSON.parse(l) as Omit<S3Call, 'client'>) }));
  assert.ok(calls.length > 0, `${client} made no S3 call (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  return calls;
}

async function boto3Round(env: NodeJS.ProcessEnv, endpoint: string, bucket: string): Promise<S3Call[]> {
  return parseCalls('boto3', await run('python3', ['-c', BOTO3_SCRIPT, endpoint, bucket], env));
}

async function jsRound(env: NodeJS.ProcessEnv, endpoint: string, bucket: string): Promise<S3Call[]> {
  const r = await run(
    process.execPath,
    ['--input-type=module', '-e', JS_SCRIPT, endpoint, bucket],
    env,
    REPO,
  );
  return parseCalls('aws-sdk-js-v3', r);
}

/** The aws CLI, one process per call; `--debug` logs the signed Authorization header. */
async function cliRound(env: NodeJS.ProcessEnv, endpoint: string, bucket: string, dir: string) {
  const file = join(dir, `${bucket}.txt`);
  await writeFile(file, 'written by the aws CLI');
  const ops: Array<[string, string[], (r: Run) => string | undefined]> = [
    ['CreateBucket', ['create-bucket', '--bucket', bucket], () => undefined],
    ['PutObject', ['put-object', '--bucket', bucket, '--key', 'cli.txt', '--body', file], () => undefined],
    ['GetObject', ['get-object', '--bucket', bucket, '--key', 'cli.txt', `${file}.out`], () => undefined],
    [
      'ListObjects',
      ['list-objects-v2', '--bucket', bucket],
      (r) => (r.stdout.includes('"cli.txt"') ? undefined : `listed ${r.stdout}`),
    ],
  ];
  const calls: S3Call[] = [];
  for (const [op, args, check] of ops) {
    const r = await run('aws', ['--endpoint-url', endpoint, '--debug', 's3api', ...args], env);
    const accessKeyId = /Credential=([A-Z0-9]+)\//.exec(r.stderr)?.[1] ?? null;
    const problem = r.code !== 0 ? r.stderr.split('\n').slice(-3).join(' ') : check(r);
    calls.push({
      client: 'aws CLI',
      op,
      ok: problem === undefined,
      accessKeyId,
      ...(problem ? { error: problem } : {}),
    });
  }
  const read = await readFile(`${file}.out`, 'utf8').catch(() => '');
  const get = calls.find((c) => c.op === 'GetObject')!;
  if (get.ok && read !== 'written by the aws CLI')
    Object.assign(get, { ok: false, error: `read back ${read}` });
  return calls;
}

/** One S3 suite's running tally, printed by its last test. */
class Tally {
  readonly calls: S3Call[] = [];
  add(calls: S3Call[]): S3Call[] {
    this.calls.push(...calls);
    return calls;
  }
  summary(): string {
    const by = new Map<string, { made: number; failed: number }>();
    for (const c of this.calls) {
      const e = by.get(c.client) ?? { made: 0, failed: 0 };
      e.made++;
      if (!c.ok) e.failed++;
      by.set(c.client, e);
    }
    const failed = this.calls.filter((c) => !c.ok).length;
    const parts = [...by].map(([client, e]) => `${client} ${e.made} made / ${e.failed} failed`);
    return `S3 calls: ${this.calls.length} made, ${failed} failed (${parts.join('; ')})`;
  }
}

function assertAllOk(calls: S3Call[], keys: Set<string>, what: string): void {
  const bad = calls.filter((c) => !c.ok || c.accessKeyId === null || !keys.has(c.accessKeyId));
  assert.deepEqual(
    bad,
    [],
    `${what}: failed calls, or calls signed with a key the sidecar did not get from MinIO`,
  );
}

/** Keys of the sidecar's successful exchanges from log line index `from` on. */
function issuedKeys(sidecar: MinioSidecar, from = 0): Set<string> {
  return new Set(
    sidecar.lines
      .slice(from)
      .filter(isSuccess)
      .map((l) => String(l.accessKeyId)),
  );
}

// --- Per mode: issuer → MinIO → sidecar → clients → rotation → refresh → rejection.

interface Rig {
  issuer: OidcIssuer;
  minio: MinioServer;
  tmp: string;
  cleanups: Array<() => Promise<unknown>>;
  sign: (o?: SignTokenOptions) => string;
  startSidecar: (
    token: string,
    env?: NodeJS.ProcessEnv,
  ) => Promise<{ sidecar: MinioSidecar; volume: KubeletTokenVolume }>;
}

async function rig(mode: MinioMode): Promise<Rig> {
  const issuer = await OidcIssuer.start();
  // The issuer runs first: MinIO reads its discovery document and JWKS at start-up.
  const minio = await MinioServer.start({
    binary: minioBinary!,
    issuer: issuer.issuer,
    clientId: AUDIENCE,
    mode,
  });
  const tmp = await mkdtemp(join(tmpdir(), 'sts-sidecar-minio-e2e-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  // Claim mode: the policy comes from the token. A Kubernetes API server cannot add such a claim.
  const claims = mode === 'claim' ? { policy: 'readwrite' } : {};
  const sign = (o: SignTokenOptions = {}) =>
    issuer.signToken({ audience: AUDIENCE, ...POD, ...o, claims: { ...claims, ...o.claims } });
  const startSidecar = async (token: string, env: NodeJS.ProcessEnv = {}) => {
    const volume = await KubeletTokenVolume.create(token);
    const sidecar = new MinioSidecar(
      {
        STS_SIDECAR_STS_ENDPOINT: minio.url,
        STS_SIDECAR_FLAVOR: 'minio',
        ...(minio.roleArn ? { STS_SIDECAR_ROLE_ARN: minio.roleArn } : {}),
        STS_SIDECAR_TOKEN_FILE: volume.path,
        STS_SIDECAR_DURATION_SECONDS: DURATION_SECONDS,
        STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: MAX_REFRESH_INTERVAL_SECONDS,
        STS_SIDECAR_LISTEN_PORT: '0',
        STS_SIDECAR_OPS_PORT: '0',
        STS_SIDECAR_OPS_HOST: '127.0.0.1',
        STS_SIDECAR_SHUTDOWN_GRACE_SECONDS: '0',
        POD_NAMESPACE: POD.namespace,
        POD_NAME: POD.podName,
        ...env,
      },
      await mkdtemp(join(tmp, 'auth-')),
    );
    cleanups.push(
      () => sidecar.stop(),
      () => volume.cleanup(),
    );
    return { sidecar, volume };
  };
  return { issuer, minio, tmp, cleanups, sign, startSidecar };
}

async function teardown(r: Rig | undefined): Promise<void> {
  if (!r) return;
  for (const c of r.cleanups.reverse()) await c();
  await r.minio.stop();
  await r.issuer.close();
  await rm(r.tmp, { recursive: true, force: true });
}

const MODES: Array<{ mode: MinioMode; title: string }> = [
  { mode: 'role-policy', title: 'MinIO e2e, role-policy mode (RoleArn sent)' },
  { mode: 'claim', title: 'MinIO e2e, claim mode (policy claim in the token, no RoleArn)' },
];

for (const { mode, title } of MODES) {
  describe(title, { skip, timeout }, () => {
    let r: Rig;
    let sidecar: MinioSidecar;
    let volume: KubeletTokenVolume;
    let home: string;
    const tally = new Tally();
    const bucket = (client: string, round: number) => `${mode}-${client}-r${round}`;

    before(async () => {
      r = await rig(mode);
      ({ sidecar, volume } = await r.startSidecar(r.sign()));
      await sidecar.listening();
      home = await mkdtemp(join(r.tmp, 'home-'));
    });
    after(() => teardown(r));

    test('first exchange against MinIO; the endpoint serves what MinIO issued', async (t: TestContext) => {
      const first = await sidecar.waitFor((l) => l.event === 'exchange');
      assert.equal(first.result, 'success', `first exchange failed: ${JSON.stringify(first.err)}`);
      const served = await sidecar.credentials();
      assert.equal(served.status, 200);
      assert.ok(issuedKeys(sidecar).has(String(served.body.AccessKeyId)), 'serves a key MinIO issued');
      assert.match(String(served.body.Expiration), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
      t.diagnostic(`${r.minio.version}; role ARN ${r.minio.roleArn ?? '(none sent)'}`);
      t.diagnostic(`first exchange: ${first.accessKeyId}, expires ${first.expiration}`);
    });

    test('boto3, the aws CLI and aws-sdk-js-v3 create, write, read and list with the served credentials', async () => {
      const env = sidecar.clientEnv(home);
      const calls = [
        ...tally.add(await boto3Round(env, r.minio.url, bucket('boto3', 1))),
        ...tally.add(await cliRound(env, r.minio.url, bucket('cli', 1), r.tmp)),
        ...tally.add(await jsRound(env, r.minio.url, bucket('js', 1))),
      ];
      assert.equal(calls.length, 12);
      assertAllOk(calls, issuedKeys(sidecar), 'round 1');
    });

    test('token rotated → refreshed from the new token (new AccessKeyId) → zero failed S3 calls across the switch', async (t: TestContext) => {
      const env = sidecar.clientEnv(home);
      const stopFile = join(r.tmp, `${mode}-stop-loop`);
      // A long-lived boto3 process keeps calling S3 while the token and the credentials change.
      const loop = run('python3', ['-c', BOTO3_SCRIPT, r.minio.url, bucket('boto3-loop', 2), stopFile], env);
      const before = sidecar.lines.length;
      const oldKeys = issuedKeys(sidecar);
      const rotated = r.sign({ lifetimeSeconds: 7200 });
      const rotatedExp = new Date(
        (JSON.parse(Buffer.from(rotated.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp *
          1000,
      ).toISOString();
      await volume.write(rotated);
      const refreshed = await sidecar.waitFor((l) => isSuccess(l) && l.tokenExp === rotatedExp, before);
      assert.ok(!oldKeys.has(String(refreshed.accessKeyId)), 'MinIO issued a new AccessKeyId');
      // Wait for one more refresh from the new token, so the loop runs across a timer refresh too.
      const refreshLine = sidecar.lines.indexOf(refreshed);
      await sidecar.waitFor((l) => isSuccess(l) && sidecar.lines.indexOf(l) > refreshLine);
      const calls = [
        ...tally.add(await boto3Round(env, r.minio.url, bucket('boto3', 2))),
        ...tally.add(await cliRound(env, r.minio.url, bucket('cli', 2), r.tmp)),
        ...tally.add(await jsRound(env, r.minio.url, bucket('js', 2))),
      ];
      // Keys issued from the rotated token on (refreshes continue while the clients run).
      assertAllOk(calls, issuedKeys(sidecar, refreshLine), 'round 2 (after the rotation)');
      await writeFile(stopFile, '');
      const loopCalls = tally.add(parseCalls('boto3 (long-lived)', await loop));
      assertAllOk(loopCalls, issuedKeys(sidecar), 'long-lived boto3 loop');
      const loopKeys = new Set(loopCalls.map((c) => c.accessKeyId));
      assert.ok(loopKeys.size > 1, 'the long-lived client switched credentials during the loop');
      t.diagnostic(
        `token rotated (exp ${rotatedExp}); refreshed to ${refreshed.accessKeyId}; ` +
          `${issuedKeys(sidecar).size} keys issued so far; long-lived boto3 used ${loopKeys.size} keys in ${loopCalls.length} calls`,
      );
    });

    test('a token MinIO rejects (wrong audience) → permanent error in log and metrics; held credentials stay served', async (t: TestContext) => {
      const before = sidecar.lines.length;
      await volume.write(r.sign({ audience: 'not-minio' }));
      const failed = await sidecar.waitFor(isFailure, before);
      assert.equal(failed.retry, 'permanent');
      assert.equal(errCode(failed), 'STS_REJECTED_TOKEN');
      assert.ok((await failureCount(sidecar.opsUrl, errCode(failed))) >= 1);
      const served = await sidecar.credentials();
      assert.equal(served.status, 200, 'the unexpired credentials are still served');
      assert.equal((await fetch(`${sidecar.opsUrl}/readyz`)).status, 200);
      t.diagnostic(`${errCode(failed)}: ${(failed.err as { message?: string }).message}`);
    });

    const rejected: Array<{ name: string; token: () => string; code: string }> = [
      {
        name: 'a wrong-audience',
        token: () => r.sign({ audience: 'not-minio' }),
        code: 'STS_REJECTED_TOKEN',
      },
      // The sidecar checks exp itself and never sends an expired token (MinIO's answer: below).
      {
        name: 'an expired',
        token: () => r.sign({ now: new Date(Date.now() - 7_200_000) }),
        code: 'TOKEN_EXPIRED',
      },
    ];
    for (const c of rejected)
      test(`a fresh sidecar with ${c.name} token serves nothing: endpoint 503, /readyz 503, ${c.code}`, async () => {
        const { sidecar: fresh } = await r.startSidecar(c.token());
        await fresh.listening();
        const failed = await fresh.waitFor(isFailure);
        assert.equal(errCode(failed), c.code);
        assert.equal(failed.retry, 'permanent');
        assert.equal(await failureCount(fresh.opsUrl, c.code), 1);
        const served = await fresh.credentials();
        assert.equal(served.status, 503);
        assert.equal(served.body.Code, 'NO_VALID_CREDENTIALS');
        assert.equal((await fetch(`${fresh.opsUrl}/readyz`)).status, 503);
        await fresh.stop();
      });

    if (mode === 'claim')
      test('claim mode: an unknown RoleArn is ignored; a token without a policy claim is refused', async (t: TestContext) => {
        const base = { Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', DurationSeconds: '900' };
        const ignored = await r.minio.postSts({
          ...base,
          WebIdentityToken: r.sign(),
          RoleArn: 'arn:minio:iam:::role/unknown',
        });
        assert.equal(ignored.status, 200);
        const noClaim = r.issuer.signToken({ audience: AUDIENCE, ...POD });
        const refused = await r.minio.postSts({ ...base, WebIdentityToken: noClaim });
        t.diagnostic(`no policy claim → HTTP ${refused.status} ${refused.body.replace(/\n/g, '')}`);
        assert.equal(refused.status, 400);
        assert.match(refused.body, /<Code>InvalidParameterValue<\/Code><Message>policy claim missing/);
      });

    test('S3 call counts', (t: TestContext) => {
      t.diagnostic(tally.summary());
      assert.ok(tally.calls.length >= 24);
      assert.deepEqual(
        tally.calls.filter((c) => !c.ok),
        [],
        'no S3 call failed',
      );
    });
  });
}

// --- The exact XML MinIO sends for each rejection, and what the sidecar makes of it.

describe('MinIO STS rejections: exact error XML and the sidecar classification', { skip, timeout }, () => {
  let r: Rig;
  before(async () => {
    r = await rig('role-policy');
  });
  after(() => teardown(r));

  interface Case {
    name: string;
    token: () => string;
    roleArn?: string;
    durationSeconds: number;
    /** What the sidecar child process does with this token/config, when it differs from the exchanger. */
    sidecar?: 'TOKEN_EXPIRED' | 'CONFIG_INVALID';
    /** The exchanger's code: MinIO sends InvalidParameterValue for all; the message tells token problems apart. */
    exchanger: 'STS_REJECTED_TOKEN' | 'STS_INVALID_REQUEST';
  }
  const cases: Case[] = [
    {
      name: 'expired token',
      token: () => r.sign({ now: new Date(Date.now() - 7_200_000) }),
      durationSeconds: 900,
      sidecar: 'TOKEN_EXPIRED',
      exchanger: 'STS_REJECTED_TOKEN',
    },
    {
      name: 'wrong audience',
      token: () => r.sign({ audience: 'not-minio' }),
      durationSeconds: 900,
      exchanger: 'STS_REJECTED_TOKEN',
    },
    {
      name: 'bad signature',
      token: () => r.sign({ signWith: 'other-key' }),
      durationSeconds: 900,
      exchanger: 'STS_REJECTED_TOKEN',
    },
    {
      name: 'unknown role',
      token: () => r.sign(),
      roleArn: 'arn:minio:iam:::role/unknown',
      durationSeconds: 900,
      exchanger: 'STS_INVALID_REQUEST',
    },
    {
      name: 'DurationSeconds 899 (below 900)',
      token: () => r.sign(),
      durationSeconds: 899,
      exchanger: 'STS_INVALID_REQUEST',
      sidecar: 'CONFIG_INVALID',
    },
    {
      name: 'DurationSeconds 31536001 (above 1 year)',
      token: () => r.sign(),
      durationSeconds: 31_536_001,
      exchanger: 'STS_INVALID_REQUEST',
      sidecar: 'CONFIG_INVALID',
    },
  ];

  for (const c of cases)
    test(`${c.name}: recorded, and classified as a permanent error`, async (t: TestContext) => {
      const token = c.token();
      const roleArn = c.roleArn ?? r.minio.roleArn!;
      const raw = await r.minio.postSts({
        Action: 'AssumeRoleWithWebIdentity',
        Version: '2011-06-15',
        WebIdentityToken: token,
        RoleArn: roleArn,
        RoleSessionName: 'shop.cart-0',
        DurationSeconds: String(c.durationSeconds),
      });
      t.diagnostic(`MinIO answered HTTP ${raw.status}: ${raw.body.replace(/\n/g, '')}`);
      assert.equal(raw.status, 400);
      assert.match(
        raw.body,
        /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type><\/Type><Code>InvalidParameterValue<\/Code>/,
      );

      // The sidecar's own exchanger (SDK + error-body middleware + classifier), in process.
      const exchanger = new StsExchanger({
        endpoint: r.minio.url,
        flavor: 'minio',
        region: 'us-east-1',
        roleArn,
        roleSessionName: 'shop.cart-0',
        durationSeconds: c.durationSeconds,
        sessionPolicy: undefined,
        caPem: undefined,
        timeoutMs: 10_000,
        now: Date.now,
        minRemainingMs: 60_000,
      });
      let error: SidecarError | undefined;
      try {
        await exchanger.exchange(token);
      } catch (e) {
        assert.ok(isSidecarError(e), `not a SidecarError: ${String(e)}`);
        error = e;
      } finally {
        exchanger.close();
      }
      assert.ok(error, 'the exchange failed');
      assert.equal(error.retry, 'permanent', `${error.code} is permanent`);
      assert.equal(error.code, c.exchanger);
      assert.equal(error.details.upstreamCode, 'InvalidParameterValue');
      t.diagnostic(`exchanger: ${error.code} (${error.retry}): ${error.message}`);

      // The sidecar process, configured as a user would.
      const { sidecar } = await r.startSidecar(token, {
        STS_SIDECAR_ROLE_ARN: roleArn,
        STS_SIDECAR_DURATION_SECONDS: String(c.durationSeconds),
      });
      if (c.sidecar === 'CONFIG_INVALID') {
        assert.equal(await sidecar.exited, 2, 'rejected at start-up, before any request');
        assert.match(sidecar.stderr + JSON.stringify(sidecar.lines), /CONFIG_INVALID|DURATION_SECONDS/);
        t.diagnostic('sidecar: exits 2 with CONFIG_INVALID (never sends it)');
        return;
      }
      await sidecar.listening();
      const failed = await sidecar.waitFor(isFailure);
      assert.equal(errCode(failed), c.sidecar ?? error.code);
      assert.equal(failed.retry, 'permanent');
      assert.equal(await failureCount(sidecar.opsUrl, errCode(failed)), 1);
      assert.equal((await sidecar.credentials()).status, 503);
      t.diagnostic(`sidecar log: ${errCode(failed)} (${String(failed.retry)})`);
    });
});
