import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-options.ts';
import { FakeSts } from '../fakes/fake-sts.ts';
import { OidcIssuer } from '../fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';

const BUNDLE = new URL('../../dist/sts-sidecar.mjs', import.meta.url).pathname;
const AUDIENCE = 'sts.example.test';
const ROLE = 'arn:aws:iam:::role/app';

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Spawns the sidecar and yields its NDJSON log lines as they come. */
function startSidecar(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  lines: AsyncIterableIterator<Record<string, unknown>>;
} {
  const child = spawn(process.execPath, [BUNDLE], { env: { PATH: process.env.PATH, ...env } });
  const rl = createInterface({ input: child.stdout! });
  async function* parse() {
    for await (const line of rl) if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
  }
  return { child, lines: parse() };
}

async function until(
  lines: AsyncIterableIterator<Record<string, unknown>>,
  predicate: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  // next() by hand: leaving a for-await loop would close the shared iterator.
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('the sidecar exited before the expected log line');
    if (predicate(value)) return value;
  }
}

test('--help lists every option and exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const o of SIDECAR_OPTIONS) {
    assert.ok(r.stdout.includes(`--${o.flag}`), o.flag);
    assert.ok(r.stdout.includes(o.env), o.env);
  }
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const r = await run(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('bad configuration: exit 2, every problem with its fix, no stack trace', async () => {
  const r = await run(['--duration-seconds', '60'], {
    STS_SIDECAR_FLAVOR: 'rgw',
    STS_SIDECAR_SESSION_POLICY: '{x',
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /STS_SIDECAR_STS_ENDPOINT \/ --sts-endpoint: is required/);
  assert.match(r.stderr, /STS_SIDECAR_ROLE_ARN \/ --role-arn: is required with --flavor rgw/);
  assert.match(r.stderr, /--duration-seconds: must be between 900 and 43200/);
  assert.match(r.stderr, /--session-policy: is not valid JSON/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '');
});

test('unknown subcommand and unknown flag exit 2', async () => {
  const sub = await run(['frobnicate']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /unknown subcommand "frobnicate"/);
  const flag = await run(['--no-such-flag']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /no-such-flag/);
});

test(
  'runs against STS, logs NDJSON, survives STS outages, stops cleanly on SIGTERM',
  {
    timeout: 30_000,
  },
  async (t) => {
    const issuer = await OidcIssuer.start();
    const sts = await FakeSts.start({
      mode: 'rgw',
      trustedIssuers: [issuer.issuer],
      audience: AUDIENCE,
      roles: [{ arn: ROLE }],
    });
    const volume = await KubeletTokenVolume.create(issuer.signToken({ audience: AUDIENCE }));
    const authDir = mkdtempSync(join(tmpdir(), 'sts-sidecar-auth-'));
    t.after(async () => {
      rmSync(authDir, { recursive: true, force: true });
      await sts.close();
      await issuer.close();
      await volume.cleanup();
    });
    // The first two attempts fail: the process must keep going and recover by itself.
    sts.injectFault('http503', { times: 2 });
    const { child, lines } = startSidecar({
      STS_SIDECAR_STS_ENDPOINT: sts.url,
      STS_SIDECAR_FLAVOR: 'rgw',
      STS_SIDECAR_ROLE_ARN: ROLE,
      STS_SIDECAR_TOKEN_FILE: volume.path,
      STS_SIDECAR_AUTH_TOKEN_FILE: join(authDir, 'token'),
      STS_SIDECAR_LISTEN_PORT: '0',
      STS_SIDECAR_OPS_PORT: '0',
      STS_SIDECAR_SHUTDOWN_GRACE_SECONDS: '0',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.after(() => child.kill('SIGKILL'));

    const failure = await until(lines, (l) => l.event === 'exchange');
    assert.equal(failure.result, 'failure');
    assert.equal((failure.err as { code: string }).code, 'STS_SERVER_ERROR');
    assert.equal(failure.level, 'warn');
    const success = await until(lines, (l) => l.event === 'exchange' && l.result === 'success');
    assert.equal(success.accessKeyId, sts.issued?.accessKeyId);
    assert.equal(success.expiration, sts.issued?.expiration.toISOString());
    assert.equal(success.tokenSub, 'system:serviceaccount:default:default');

    child.kill('SIGTERM');
    await until(lines, (l) => l.event === 'stopped');
    assert.equal(await exited, 0);
  },
);
