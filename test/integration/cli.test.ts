import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-options.ts';
import { BUNDLE, SidecarProcess } from '../helpers/sidecar-process.ts';

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
  { timeout: 30_000 },
  async (t) => {
    // The first two attempts fail: the process must keep going and recover by itself.
    const p = await SidecarProcess.start({ beforeSpawn: (sts) => sts.injectFault('http503', { times: 2 }) });
    t.after(() => p.close());

    const failure = await p.waitFor((l) => l.event === 'exchange');
    assert.equal(failure.result, 'failure');
    assert.equal((failure.err as { code: string }).code, 'STS_SERVER_ERROR');
    assert.equal(failure.level, 'warn');
    const success = await p.ready();
    assert.equal(success.accessKeyId, p.sts.issued?.accessKeyId);
    assert.equal(success.expiration, p.sts.issued?.expiration.toISOString());
    assert.equal(success.tokenSub, 'system:serviceaccount:shop:cart');
    assert.ok(
      p.lines.every((l) => typeof l.level === 'string' && typeof l.time === 'string'),
      'NDJSON with level and time',
    );

    const stopped = await p.next(
      (l) => l.event === 'stopped',
      () => p.child.kill('SIGTERM'),
    );
    assert.equal(stopped.level, 'info');
    assert.equal(await p.exited, 0);
  },
);
