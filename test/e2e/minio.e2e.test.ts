import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, type TestContext, test } from 'node:test';
import { isSidecarError, type SidecarError } from '../../src/shared/errors.ts';
import { StsExchanger } from '../../src/sts/exchanger.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';
import { findMinioBinary, type MinioMode, MinioServer } from '../helpers/minio-server.ts';
import { missingPeer } from '../helpers/required-peer.ts';
import { assertCredentialSource, assertSignedWith, S3CallTally } from '../helpers/s3-call-tally.ts';
import { S3_CLIENTS, type S3Target, s3Target } from '../helpers/s3-clients.ts';

// Issue 4, MinIO part: the built sidecar against a real MinIO (built by .ci/peers/minio.sh), with
// real clients (boto3, the aws CLI, aws-sdk-js-v3, aws-sdk-go-v2; test/helpers/s3-clients.ts)
// doing S3 I/O with what it serves, through a kubelet-style token rotation and credential
// refreshes, then tokens MinIO rejects. Each mode ends by printing its S3 calls per client.

const BUNDLE = new URL('../../dist/sts-sidecar.mjs', import.meta.url).pathname;
const AUDIENCE = 'sts.example.test';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;
/** MinIO's minimum (cmd/sts-handlers.go); short on purpose, the refresh below is forced anyway. */
const DURATION_SECONDS = '900';
/** Forces a refresh every few seconds, so one happens inside each test. */
const MAX_REFRESH_INTERVAL_SECONDS = '3';
const timeout = 240_000;

const minioBinary = findMinioBinary();
const skip = !minioBinary
  ? missingPeer('MinIO not installed: run bash .ci/peers/minio.sh install (or set STS_SIDECAR_MINIO_BIN)')
  : undefined;
/** The clients installed here; the others are reported as skipped, with the reason. */
const clients = S3_CLIENTS.filter((c) => !c.probe.skip);

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
    let tgt: S3Target;
    let tally: S3CallTally;
    const bucket = (client: string, round: number | string) =>
      `${mode}-${client.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${round}`;

    before(async () => {
      r = await rig(mode);
      ({ sidecar, volume } = await r.startSidecar(r.sign()));
      await sidecar.listening();
      const home = await mkdtemp(join(r.tmp, 'home-'));
      tgt = await s3Target(r.minio.url, sidecar.clientEnv(home), home);
      // The module version (a `go install` build's `minio --version` names no release).
      tally = new S3CallTally(`MinIO ${r.minio.version.split(' (')[0]}, ${mode} mode`);
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

    for (const client of S3_CLIENTS)
      test(
        `${client.name} creates, writes, reads and lists with the served credentials`,
        { skip: client.probe.skip },
        async () => {
          const session = client.start(tgt, bucket(client.name, 1));
          const calls = await tally.add(session);
          assert.equal(calls.length, 4, 'CreateBucket, PutObject, GetObject, ListObjects');
          assertSignedWith(calls, issuedKeys(sidecar), `${client.name}, round 1`);
          assertCredentialSource(session, client);
        },
      );

    test('token rotated → refreshed from the new token (new AccessKeyId), then refreshed again → zero failed S3 calls across both', async (t: TestContext) => {
      const stopFile = join(r.tmp, `${mode}-stop-loop`);
      // Every client keeps calling S3 in its own long-lived process (the CLI: a process per call)
      // while the token and the credentials change underneath it.
      const loops = clients.map((c) => ({
        client: c,
        session: c.start(tgt, bucket(c.name, 'loop'), stopFile),
      }));
      const nextCallFromEach = () => Promise.all(loops.map((l) => l.session.nextCall()));
      await nextCallFromEach();
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
      await nextCallFromEach();
      // One more refresh from the new token (the max refresh interval), so the loops run across it too.
      const refreshLine = sidecar.lines.indexOf(refreshed);
      await sidecar.waitFor((l) => isSuccess(l) && sidecar.lines.indexOf(l) > refreshLine);
      await nextCallFromEach();
      // A new process of each client gets a key issued from the rotated token on.
      for (const client of clients) {
        const calls = await tally.add(client.start(tgt, bucket(client.name, 2)));
        assertSignedWith(calls, issuedKeys(sidecar, refreshLine), `${client.name} after the rotation`);
      }
      await writeFile(stopFile, '');
      for (const { client, session } of loops) {
        const calls = await tally.add(session);
        assertSignedWith(calls, issuedKeys(sidecar), `long-lived ${client.name}`);
        t.diagnostic(session.summary());
      }
      // botocore asks the endpoint again inside its refresh window (always, with 900 s credentials).
      const boto3 = loops.find((l) => l.client.name === 'boto3')?.session;
      if (boto3) assert.ok(boto3.keysUsed().length > 1, 'the long-lived boto3 switched credentials');
      t.diagnostic(
        `token rotated (exp ${rotatedExp}); refreshed to ${refreshed.accessKeyId}; ${issuedKeys(sidecar).size} keys issued so far`,
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

    test('S3 calls made and failed, per client', (t: TestContext) => {
      for (const client of S3_CLIENTS) tally.skipped(client);
      for (const line of tally.lines()) t.diagnostic(line);
      if (clients.length > 0) assert.ok(tally.calls.length >= 8 * clients.length);
      assert.deepEqual(tally.failed(), [], 'no S3 call failed');
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
