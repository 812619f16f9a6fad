import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deriveSessionName, loadSidecarConfig } from '../../src/config/sidecar-config.ts';
import { DEFAULT_TOKEN_FILE } from '../../src/config/sidecar-options.ts';
import { ConfigError } from '../../src/shared/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sts-sidecar-config-'));
// Issue #14: this folder was left behind on every run.
test.after(() => rmSync(dir, { recursive: true, force: true }));
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const notPem = join(dir, 'not.pem');
writeFileSync(notPem, 'hello');
// A wrong mount: more than the 1 MiB a CA bundle may be (issue #13: every read is bounded).
const hugePem = join(dir, 'huge.pem');
writeFileSync(hugePem, `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1024 * 1024)}\n`);

const RGW = {
  STS_SIDECAR_STS_ENDPOINT: 'https://rgw.example:8443',
  STS_SIDECAR_FLAVOR: 'rgw',
  STS_SIDECAR_ROLE_ARN: 'arn:aws:iam:::role/app',
};

function configIssues(argv: string[], env: NodeJS.ProcessEnv): string[] {
  try {
    loadSidecarConfig(argv, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, 'a ConfigError');
    assert.equal(error.code, 'CONFIG_INVALID');
    return error.issues.map((i) => `${i.env} ${i.flag}: ${i.problem}`);
  }
  return [];
}

test('defaults apply for a minimal rgw configuration', () => {
  const c = loadSidecarConfig([], { ...RGW, POD_NAMESPACE: 'shop', POD_NAME: 'cart-7d9f' });
  assert.equal(c.stsEndpoint, 'https://rgw.example:8443/');
  assert.equal(c.flavor, 'rgw');
  assert.equal(c.durationSeconds, 3600);
  assert.equal(c.tokenFile, DEFAULT_TOKEN_FILE);
  assert.equal(c.roleSessionName, 'shop.cart-7d9f');
  assert.equal(c.stsTimeoutMs, 10_000);
  assert.equal(c.region, 'us-east-1');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.sessionPolicy, undefined);
  assert.ok(Object.isFrozen(c));
});

test('flags win over environment variables', () => {
  const c = loadSidecarConfig(['--duration-seconds', '7200', '--role-session-name=from-flag'], {
    ...RGW,
    STS_SIDECAR_DURATION_SECONDS: '1800',
    STS_SIDECAR_ROLE_SESSION_NAME: 'from-env',
  });
  assert.equal(c.durationSeconds, 7200);
  assert.equal(c.roleSessionName, 'from-flag');
});

test('minio makes the role ARN optional and allows long durations', () => {
  const c = loadSidecarConfig([], {
    STS_SIDECAR_STS_ENDPOINT: 'http://127.0.0.1:9000',
    STS_SIDECAR_FLAVOR: 'minio',
    STS_SIDECAR_DURATION_SECONDS: '86400',
  });
  assert.equal(c.roleArn, undefined);
  assert.equal(c.durationSeconds, 86400);
});

test('a CA bundle is read once at start', () => {
  const c = loadSidecarConfig(['--ca-file', caFile], RGW);
  assert.match(c.caPem ?? '', /BEGIN CERTIFICATE/);
});

const badCases: Array<{ name: string; argv?: string[]; env: NodeJS.ProcessEnv; expect: RegExp[] }> = [
  {
    name: 'nothing set names both required options',
    env: {},
    expect: [
      /STS_SIDECAR_STS_ENDPOINT --sts-endpoint: is required/,
      /STS_SIDECAR_FLAVOR --flavor: is required/,
    ],
  },
  {
    name: 'endpoint not a URL',
    env: { ...RGW, STS_SIDECAR_STS_ENDPOINT: 'not a url' },
    expect: [/--sts-endpoint: is not a URL/],
  },
  {
    name: 'endpoint with another scheme',
    env: { ...RGW, STS_SIDECAR_STS_ENDPOINT: 'ftp://x' },
    expect: [/https:\/\/ or http/],
  },
  {
    name: 'endpoint with user info',
    env: { ...RGW, STS_SIDECAR_STS_ENDPOINT: 'https://u:p@x' },
    expect: [/must not carry user:password/],
  },
  {
    name: 'unknown flavor',
    env: { ...RGW, STS_SIDECAR_FLAVOR: 'ceph' },
    expect: [/"ceph" is not one of rgw, minio, aws/],
  },
  {
    name: 'rgw without role ARN',
    env: { ...RGW, STS_SIDECAR_ROLE_ARN: '' },
    expect: [/--role-arn: is required with --flavor rgw/],
  },
  {
    name: 'role ARN malformed',
    env: { ...RGW, STS_SIDECAR_ROLE_ARN: 'role/app' },
    expect: [/--role-arn: is not an ARN/],
  },
  {
    name: 'session name with bad characters',
    env: { ...RGW, STS_SIDECAR_ROLE_SESSION_NAME: 'has space' },
    expect: [/--role-session-name: must be 2-64/],
  },
  {
    name: 'session name too long',
    env: { ...RGW, STS_SIDECAR_ROLE_SESSION_NAME: 'a'.repeat(65) },
    expect: [/--role-session-name: must be 2-64/],
  },
  {
    name: 'duration below 900',
    env: { ...RGW, STS_SIDECAR_DURATION_SECONDS: '899' },
    expect: [/between 900 and 43200/],
  },
  {
    name: 'duration above rgw cap',
    env: { ...RGW, STS_SIDECAR_DURATION_SECONDS: '43201' },
    expect: [/between 900 and 43200/],
  },
  {
    name: 'duration not a number',
    env: { ...RGW, STS_SIDECAR_DURATION_SECONDS: '1h' },
    expect: [/"1h" is not a whole number/],
  },
  {
    name: 'policy not JSON',
    env: { ...RGW, STS_SIDECAR_SESSION_POLICY: '{nope' },
    expect: [/is not valid JSON/],
  },
  {
    name: 'policy not an object',
    env: { ...RGW, STS_SIDECAR_SESSION_POLICY: '[1]' },
    expect: [/must be a JSON object/],
  },
  {
    name: 'policy too long',
    env: { ...RGW, STS_SIDECAR_SESSION_POLICY: JSON.stringify({ Version: 'x'.repeat(2050) }) },
    expect: [/STS accepts at most 2048/],
  },
  {
    name: 'CA file missing',
    env: { ...RGW, STS_SIDECAR_CA_FILE: join(dir, 'absent.pem') },
    expect: [/cannot be read \(ENOENT\)/],
  },
  {
    name: 'CA file over the 1 MiB cap',
    env: { ...RGW, STS_SIDECAR_CA_FILE: hugePem },
    expect: [/cannot be read \(EFBIG\)/],
  },
  {
    name: 'CA file not PEM',
    env: { ...RGW, STS_SIDECAR_CA_FILE: notPem },
    expect: [/holds no PEM certificate/],
  },
  {
    name: 'CA file with an http endpoint',
    env: { ...RGW, STS_SIDECAR_STS_ENDPOINT: 'http://rgw:80', STS_SIDECAR_CA_FILE: caFile },
    expect: [/--ca-file: is set but --sts-endpoint is http/],
  },
  {
    name: 'timeout zero',
    env: { ...RGW, STS_SIDECAR_STS_TIMEOUT_SECONDS: '0' },
    expect: [/between 1 and 120/],
  },
  {
    name: 'bad region',
    env: { ...RGW, STS_SIDECAR_REGION: 'US East' },
    expect: [/--region: must be lower-case/],
  },
  {
    name: 'bad log level',
    env: { ...RGW, STS_SIDECAR_LOG_LEVEL: 'loud' },
    expect: [/"loud" is not one of trace/],
  },
  { name: 'unknown flag', argv: ['--rolearn', 'x'], env: RGW, expect: [/\(command line\): .*rolearn/] },
  {
    name: 'every problem is reported at once',
    env: { STS_SIDECAR_FLAVOR: 'rgw', STS_SIDECAR_DURATION_SECONDS: '10', STS_SIDECAR_LOG_LEVEL: 'x' },
    expect: [/--sts-endpoint/, /--role-arn/, /--duration-seconds/, /--log-level/],
  },
];

for (const c of badCases) {
  test(`rejects: ${c.name}`, () => {
    const issues = configIssues(c.argv ?? [], c.env);
    assert.ok(issues.length >= c.expect.length, `issues: ${issues.join(' | ')}`);
    for (const pattern of c.expect)
      assert.ok(
        issues.some((i) => pattern.test(i)),
        `${pattern} in ${issues.join(' | ')}`,
      );
  });
}

test('a secret-looking policy value is not echoed back in the error', () => {
  const secretish = '{"Statement": "SECRET-VALUE-123"'; // broken JSON
  const issues = configIssues([], { ...RGW, STS_SIDECAR_SESSION_POLICY: secretish });
  assert.ok(issues.length === 1);
  assert.ok(!issues[0]!.includes('SECRET-VALUE-123'));
});

const sessionNames: Array<[NodeJS.ProcessEnv, string]> = [
  [{ POD_NAMESPACE: 'shop', POD_NAME: 'cart-1' }, 'shop.cart-1'],
  [{ POD_NAMESPACE: 'a b', POD_NAME: 'c/d' }, 'a-b.c-d'],
  [{ POD_NAMESPACE: 'n'.repeat(40), POD_NAME: 'p'.repeat(40) }, `${'n'.repeat(40)}.${'p'.repeat(23)}`],
  [{ POD_NAME: 'x' }, 'sts-sidecar'],
  [{}, 'sts-sidecar'],
];
for (const [env, expected] of sessionNames) {
  test(`derived session name ${JSON.stringify(env)} -> ${expected}`, () => {
    const name = deriveSessionName(env);
    assert.equal(name, expected);
    assert.match(name, /^[A-Za-z0-9_=,.@-]{2,64}$/);
  });
}
