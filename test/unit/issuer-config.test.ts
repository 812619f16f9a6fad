import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadIssuerConfig } from '../../src/config/issuer-config.ts';
import { ISSUER_OPTIONS } from '../../src/config/issuer-options.ts';
import { ConfigError } from '../../src/shared/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sts-issuer-config-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const files = [
  `--tls-cert-file=${file('tls.crt', 'x')}`,
  `--tls-key-file=${file('tls.key', 'x')}`,
  `--ca-key-file=${file('ca.key', 'x')}`,
];
const podNamespaceFile = file('namespace', 'sts-system\n');
const noNamespaceFile = join(dir, 'absent');
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The flags of every problem a ConfigError lists. */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.flag}: ${i.problem}`);
  }
  return [];
}

test('defaults fill every option; flags win over env', () => {
  const c = loadIssuerConfig(
    [...files, '--refresh-interval-seconds=30'],
    {
      STS_SIDECAR_ISSUER_REFRESH_INTERVAL_SECONDS: '10',
      STS_SIDECAR_ISSUER_ISSUER_URL: 'https://kubernetes.default.svc',
    },
    noNamespaceFile,
  );
  assert.equal(c.listenPort, 8443);
  assert.equal(c.opsPort, 9189);
  assert.equal(c.refreshIntervalMs, 30_000);
  assert.equal(c.maxStaleMs, 3_600_000);
  assert.equal(c.apiTimeoutMs, 10_000);
  assert.equal(c.issuerUrl, 'https://kubernetes.default.svc/');
  assert.equal(c.probe, undefined, 'no probe without a ServiceAccount');
  assert.ok(Object.isFrozen(c));
});

test('the probe namespace: flag, else the pod namespace file; required outside a pod', () => {
  const fromFile = loadIssuerConfig([...files, '--probe-service-account=issuer'], {}, podNamespaceFile);
  assert.deepEqual(fromFile.probe, { namespace: 'sts-system', serviceAccount: 'issuer' });
  const fromEnv = loadIssuerConfig(
    files,
    {
      STS_SIDECAR_ISSUER_PROBE_SERVICE_ACCOUNT: 'issuer',
      STS_SIDECAR_ISSUER_PROBE_NAMESPACE: 'other',
    },
    podNamespaceFile,
  );
  assert.deepEqual(fromEnv.probe, { namespace: 'other', serviceAccount: 'issuer' });
  assert.deepEqual(
    problems(() => loadIssuerConfig([...files, '--probe-service-account=issuer'], {}, noNamespaceFile)),
    [`--probe-namespace: is required with --probe-service-account outside a pod (no ${noNamespaceFile}).`],
  );
});

const bad: Array<[string, string[], RegExp]> = [
  [
    'missing files',
    ['--tls-cert-file=/nonexistent', `--ca-key-file=${join(dir, 'nope')}`],
    /--tls-cert-file: cannot be read \(ENOENT\).*--ca-key-file: cannot be read \(ENOENT\).*CA key Secret/s,
  ],
  [
    'max-stale below the refresh interval',
    ['--refresh-interval-seconds=120', '--max-stale-seconds=60'],
    /--max-stale-seconds: must be at least --refresh-interval-seconds \(120\); got 60/,
  ],
  [
    'refresh interval out of range',
    ['--refresh-interval-seconds=0'],
    /--refresh-interval-seconds: must be between 1 and 3600/,
  ],
  [
    'an unreadable kubeconfig',
    ['--kubeconfig=/nonexistent/kubeconfig'],
    /--kubeconfig: cannot be read \(ENOENT\)/,
  ],
  ['same ports', ['--listen-port=9000', '--ops-port=9000'], /--ops-port: must differ/],
  [
    'bad names',
    ['--probe-service-account=Not_A_Name', '--probe-namespace=-x'],
    /--probe-namespace: is not a namespace name.*--probe-service-account: is not a ServiceAccount name/s,
  ],
  [
    'issuer URL with credentials',
    ['--issuer-url=https://u:p@x.example'],
    /--issuer-url: must not carry user:password/,
  ],
];
for (const [name, args, want] of bad)
  test(`refused: ${name}`, () => {
    const found = problems(() => loadIssuerConfig([...files, ...args], {}, podNamespaceFile));
    assert.match(found.join('\n'), want);
  });

test('every option has an STS_SIDECAR_ISSUER_ env var (or KUBECONFIG) and a doc sentence', () => {
  for (const o of ISSUER_OPTIONS) {
    assert.ok(o.env === 'KUBECONFIG' || o.env.startsWith('STS_SIDECAR_ISSUER_'), o.env);
    assert.match(o.doc, /\.$/, o.key);
  }
});
