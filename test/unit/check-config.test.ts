import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckConfig, splitArgv } from '../../src/config/check-config.ts';
import { CHECK_ONLY_OPTIONS, CHECK_OPTIONS } from '../../src/config/check-options.ts';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-options.ts';
import { ConfigError } from '../../src/shared/errors.ts';

const ENV = {
  STS_SIDECAR_STS_ENDPOINT: 'https://rgw.example.internal',
  STS_SIDECAR_FLAVOR: 'rgw',
  STS_SIDECAR_ROLE_ARN: 'arn:aws:iam:::role/app',
};

const SPLITS: Array<{ name: string; argv: string[]; sidecar: string[]; check: string[] }> = [
  { name: 'nothing', argv: [], sidecar: [], check: [] },
  {
    name: 'a bare switch between sidecar flags',
    argv: ['--flavor', 'minio', '--json', '--region', 'eu'],
    sidecar: ['--flavor', 'minio', '--region', 'eu'],
    check: ['--json=true'],
  },
  {
    name: 'a switch with an explicit value, either form',
    argv: ['--skip-exchange', 'false', '--json=false'],
    sidecar: [],
    check: ['--skip-exchange=false', '--json=false'],
  },
  {
    name: 'valued check flags, both forms',
    argv: ['--audience', 'minio', '--rgw-version=19.2.3', '--ca-file', 'x'],
    sidecar: ['--ca-file', 'x'],
    check: ['--audience', 'minio', '--rgw-version=19.2.3'],
  },
  {
    name: 'a valued check flag last, without its value',
    argv: ['--audience'],
    sidecar: [],
    check: ['--audience'],
  },
  { name: 'positionals stay with the sidecar half', argv: ['extra'], sidecar: ['extra'], check: [] },
];

for (const c of SPLITS)
  test(`splitArgv: ${c.name}`, () => {
    assert.deepEqual(splitArgv(c.argv), { sidecarArgv: c.sidecar, checkArgv: c.check });
  });

test("check's own flags and env vars never collide with the sidecar's", () => {
  const flags = CHECK_OPTIONS.map((o) => o.flag);
  const envs = CHECK_OPTIONS.map((o) => o.env);
  assert.equal(new Set(flags).size, flags.length);
  assert.equal(new Set(envs).size, envs.length);
  assert.equal(CHECK_OPTIONS.length, SIDECAR_OPTIONS.length + CHECK_ONLY_OPTIONS.length);
});

test('defaults: the sidecar configuration as the sidecar loads it, check options at their defaults', () => {
  const c = loadCheckConfig([], ENV);
  assert.equal(c.sidecar.flavor, 'rgw');
  assert.equal(c.sidecar.stsTimeoutMs, 10_000);
  assert.deepEqual(
    {
      json: c.json,
      skip: c.skipExchange,
      aud: c.audience,
      ca: c.issuerCaFile,
      max: c.maxClockSkewSeconds,
      v: c.rgwVersion,
    },
    { json: false, skip: false, aud: undefined, ca: undefined, max: 300, v: undefined },
  );
});

test('flags win over env vars for check options too', () => {
  const c = loadCheckConfig(['--audience', 'flag-aud', '--json'], {
    ...ENV,
    STS_SIDECAR_CHECK_AUDIENCE: 'env-aud',
    STS_SIDECAR_CHECK_SKIP_EXCHANGE: 'true',
  });
  assert.equal(c.audience, 'flag-aud');
  assert.equal(c.json, true);
  assert.equal(c.skipExchange, true);
});

test('--issuer-ca-file is read; a missing or non-PEM file is a problem naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-check-config-'));
  try {
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.match(loadCheckConfig(['--issuer-ca-file', pem], ENV).issuerCaPem ?? '', /BEGIN CERTIFICATE/);
    const text = join(dir, 'ca.txt');
    writeFileSync(text, 'hello');
    assert.throws(() => loadCheckConfig(['--issuer-ca-file', text], ENV), /ca\.txt holds no PEM certificate/);
    assert.throws(
      () => loadCheckConfig(['--issuer-ca-file', join(dir, 'nope')], ENV),
      /--issuer-ca-file: cannot be read \(ENOENT\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one ConfigError lists the sidecar's problems and check's together", () => {
  let error: unknown;
  try {
    loadCheckConfig(['--listen-port', '80', '--max-clock-skew-seconds', '0'], { STS_SIDECAR_FLAVOR: 'rgw' });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  const flags = error.issues.map((i) => i.flag).sort();
  assert.deepEqual(flags, ['--listen-port', '--max-clock-skew-seconds', '--role-arn', '--sts-endpoint']);
});

test('--rgw-version only with --flavor rgw', () => {
  assert.equal(loadCheckConfig(['--rgw-version', '18.2.8'], ENV).rgwVersion, '18.2.8');
  assert.throws(
    () => loadCheckConfig(['--rgw-version', '18.2.8'], { ...ENV, STS_SIDECAR_FLAVOR: 'minio' }),
    /applies to --flavor rgw only/,
  );
});
