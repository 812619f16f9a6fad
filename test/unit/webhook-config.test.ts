import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadWebhookConfig } from '../../src/config/webhook-config.ts';
import { ConfigError } from '../../src/shared/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sts-webhook-config-'));
const cert = join(dir, 'tls.crt');
const key = join(dir, 'tls.key');
writeFileSync(cert, 'x');
writeFileSync(key, 'x');
test.after(() => rmSync(dir, { recursive: true, force: true }));
const base = [
  `--tls-cert-file=${cert}`,
  `--tls-key-file=${key}`,
  '--sidecar-image=registry.example/sts-sidecar:0.1.0',
];

test('defaults fill every option; flags win over env', () => {
  const c = loadWebhookConfig([...base, '--flavor=minio'], {
    STS_SIDECAR_WEBHOOK_FLAVOR: 'rgw',
    STS_SIDECAR_WEBHOOK_AUDIENCE: 'aud',
  });
  assert.equal(c.listenPort, 8443);
  assert.equal(c.opsPort, 9188);
  assert.equal(c.serviceAccountLookupGraceMs, 1000);
  assert.equal(c.sidecar.fsGroup, 65532);
  assert.equal(c.defaults.flavor, 'minio');
  assert.equal(c.defaults.audience, 'aud');
  assert.equal(c.defaults.memoryLimit, '192Mi');
});

test('every bad option is reported at once, with env var and flag', () => {
  assert.throws(
    () =>
      loadWebhookConfig(
        [
          '--tls-cert-file=/nonexistent',
          '--flavor=s3',
          '--sidecar-cpu-limit=lots',
          '--service-account-lookup-grace-ms=9000',
        ],
        {},
      ),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const flags = e.issues.map((i) => i.flag).sort();
      assert.deepEqual(flags, [
        '--flavor',
        '--service-account-lookup-grace-ms',
        '--sidecar-cpu-limit',
        '--sidecar-image',
        '--tls-cert-file',
        '--tls-key-file',
      ]);
      return true;
    },
  );
});

// Issue #14: the webhook's --duration-seconds default ignored the store limits of --flavor, so a
// default every pod of that flavor would be refused with passed the start-up check.
const durations: Array<[string, string[], boolean]> = [
  ['rgw refuses a day', ['--flavor=rgw', '--duration-seconds=86400'], false],
  ['minio accepts a day', ['--flavor=minio', '--duration-seconds=86400'], true],
  ['no flavor: the widest store range', ['--duration-seconds=86400'], true],
  ['no flavor: above every store', ['--duration-seconds=40000000'], false],
];
for (const [name, argv, ok] of durations)
  test(`--duration-seconds against --flavor's limits: ${name}`, () => {
    const load = () => loadWebhookConfig([...base, ...argv], {});
    if (ok) assert.equal(load().defaults.durationSeconds, '86400');
    else
      assert.throws(
        load,
        (e: unknown) => e instanceof ConfigError && e.issues[0]?.flag === '--duration-seconds',
      );
  });
