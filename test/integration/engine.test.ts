import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refreshWindow } from '../../src/credentials/refresh-policy.ts';
import { EngineHarness, ROLE_ARN } from '../helpers/engine-harness.ts';

const MIN = 60_000;

test('rgw: one exchange carrying exactly the configured parameters', { timeout: 20_000 }, async (t) => {
  const policy =
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}';
  const h = await EngineHarness.create({
    env: { STS_SIDECAR_SESSION_POLICY: policy, STS_SIDECAR_DURATION_SECONDS: '7200' },
  });
  t.after(() => h.close());
  const token = await h.rotateToken();
  await h.sidecar.start();

  assert.equal(h.sts.requests.length, 1);
  const { params, outcome } = h.sts.requests[0]!;
  assert.equal(outcome, 'ok');
  assert.deepEqual(params, {
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: ROLE_ARN,
    RoleSessionName: 'shop.cart-0',
    DurationSeconds: '7200',
    Policy: policy,
    WebIdentityToken: token,
  });
  const held = h.sidecar.store.servable();
  const issued = h.sts.issued!;
  assert.ok(held, 'credentials are servable after the first exchange');
  assert.equal(held.accessKeyId, issued.accessKeyId);
  assert.equal(held.secretAccessKey, issued.secretAccessKey);
  assert.equal(held.sessionToken, issued.sessionToken);
  // RGW sends nanoseconds; a Date keeps milliseconds.
  assert.equal(held.expiration.getTime(), Math.floor(issued.expiration.getTime()));
  assert.equal(h.outcomes[0]?.ok, true);
});

test(
  'minio without a role ARN sends no RoleArn and still always sends DurationSeconds',
  {
    timeout: 20_000,
  },
  async (t) => {
    const h = await EngineHarness.create({ mode: 'minio' });
    t.after(() => h.close());
    await h.sidecar.start();
    const { params } = h.sts.requests[0]!;
    assert.equal(h.sts.requests[0]!.outcome, 'ok');
    assert.equal('RoleArn' in params, false);
    assert.equal(params.DurationSeconds, '3600');
    assert.ok(h.sidecar.store.servable());
  },
);

test('minio with a role ARN sends it', { timeout: 20_000 }, async (t) => {
  const h = await EngineHarness.create({ mode: 'minio', env: { STS_SIDECAR_ROLE_ARN: ROLE_ARN } });
  t.after(() => h.close());
  await h.sidecar.start();
  assert.equal(h.sts.requests[0]!.params.RoleArn, ROLE_ARN);
  assert.equal(h.sts.requests[0]!.outcome, 'ok');
});

for (const lifetimeSeconds of [900, 3600]) {
  test(
    `${lifetimeSeconds} s credentials over 20 refresh cycles: always servable, on schedule, one exchange at a time`,
    {
      timeout: 30_000,
    },
    async (t) => {
      const h = await EngineHarness.create({ credentialLifetimeSeconds: lifetimeSeconds });
      t.after(() => h.close());
      await h.sidecar.start();
      for (let cycle = 0; cycle < 20; cycle++) {
        const obtainedAt = h.clock.now();
        const held = h.sidecar.store.servable();
        assert.ok(held, `cycle ${cycle}: servable right after refresh`);
        const expiresAt = held.expiration.getTime();
        const next = h.sidecar.scheduler.nextAttemptAt!;
        const { earliest, latest } = refreshWindow(obtainedAt, expiresAt);
        assert.ok(
          next >= earliest && next <= latest,
          `cycle ${cycle}: refresh at ${next - obtainedAt} ms in window`,
        );
        assert.ok(expiresAt - next >= MIN, 'the refresh starts while the credentials are still servable');
        // Just before the refresh fires, the old credentials are still servable.
        h.clock.advanceTo(next - 1);
        assert.equal(h.sidecar.store.servable(), held);
        // Ask for more exchanges while one is due: single-flight keeps it to one request.
        const before = h.sts.requests.length;
        const outcome = await h.nextOutcome(() => {
          h.clock.advanceTo(next);
          void h.sidecar.scheduler.refreshNow();
          h.sidecar.scheduler.tokenChanged();
        });
        assert.equal(outcome.ok, true);
        assert.equal(h.sts.requests.length, before + 1, `cycle ${cycle}: exactly one exchange`);
        assert.notEqual(
          h.sidecar.store.servable()?.accessKeyId,
          held.accessKeyId,
          'new credentials in the store',
        );
      }
      assert.equal(h.sts.maxConcurrent, 1, 'never two exchanges in flight');
      assert.equal(h.sts.requests.length, 21);
    },
  );
}

const transientFaults = [
  { fault: 'http500', code: 'STS_SERVER_ERROR' },
  { fault: 'http503', code: 'STS_SERVER_ERROR' },
  { fault: 'throttle', code: 'STS_THROTTLED' },
  { fault: 'hang', code: 'STS_TIMEOUT' },
  { fault: 'reset', code: 'STS_UNREACHABLE' },
  // A proxy's 502 page: a server-side failure, whatever the body.
  { fault: 'html', code: 'STS_SERVER_ERROR' },
  { fault: 'html200', code: 'STS_BAD_RESPONSE' },
  { fault: 'truncated', code: 'STS_BAD_RESPONSE' },
  { fault: 'expired', code: 'STS_EXPIRED_CREDENTIALS' },
] as const;

for (const { fault, code } of transientFaults) {
  test(
    `transient fault ${fault}: ${code}, old credentials kept, jittered backoff, immediate recovery`,
    {
      timeout: 30_000,
    },
    async (t) => {
      const h = await EngineHarness.create();
      t.after(() => h.close());
      await h.sidecar.start();
      const held = h.sidecar.store.servable()!;
      const failures = 4;
      h.sts.injectFault(fault, { times: failures });
      const delays: number[] = [];
      for (let attempt = 0; attempt < failures; attempt++) {
        const outcome = await h.runNextAttempt();
        assert.equal(outcome.ok, false);
        if (outcome.ok) return;
        assert.equal(outcome.error.code, code);
        assert.equal(outcome.consecutiveFailures, attempt + 1);
        const delay = outcome.nextAttemptAt - h.clock.now();
        const ceiling = Math.min(60_000, 1_000 * 2 ** attempt);
        assert.ok(
          delay >= 250 && delay <= ceiling,
          `attempt ${attempt}: delay ${delay} within (250, ${ceiling}]`,
        );
        delays.push(delay);
        assert.equal(h.sidecar.store.servable(), held, 'old credentials still served');
      }
      assert.ok(new Set(delays).size > 1, 'backoff is jittered, not fixed');
      const recovered = await h.runNextAttempt();
      assert.equal(recovered.ok, true, 'first attempt after STS returns succeeds');
      assert.notEqual(h.sidecar.store.servable()?.accessKeyId, held.accessKeyId);
      const counter = await h.metrics.registry.getSingleMetricAsString('sts_sidecar_exchanges_total');
      assert.match(counter, new RegExp(`result="failure",code="${code}"} ${failures}`));
    },
  );
}

test(
  'STS down for the whole credential life: served until 60 s before expiry, never after',
  {
    timeout: 60_000,
  },
  async (t) => {
    const h = await EngineHarness.create({ credentialLifetimeSeconds: 900 });
    t.after(() => h.close());
    await h.sidecar.start();
    const held = h.sidecar.store.servable()!;
    const expiresAt = held.expiration.getTime();
    h.sts.injectFault('http503', { times: 10_000 });
    let attempts = 0;
    while (h.clock.now() < expiresAt + 5 * MIN) {
      const outcome = await h.runNextAttempt();
      attempts++;
      assert.equal(outcome.ok, false);
      const now = h.clock.now();
      const served = h.sidecar.store.servable();
      if (expiresAt - now >= MIN) assert.equal(served, held, `served at ${expiresAt - now} ms before expiry`);
      else assert.equal(served, undefined, `nothing served ${expiresAt - now} ms before expiry`);
      // Between attempts too: probe the instant the margin is crossed.
      if (now < expiresAt - MIN && h.sidecar.scheduler.nextAttemptAt! > expiresAt - MIN) {
        h.clock.advanceTo(expiresAt - MIN + 1);
        assert.equal(h.sidecar.store.servable(), undefined, 'unservable 1 ms past the margin');
      }
    }
    assert.ok(attempts > 5, `kept retrying (${attempts} attempts)`);
    assert.ok(attempts < 200, `but backed off (${attempts} attempts in ~15 min)`);
    h.sts.clearFaults();
    const recovered = await h.runNextAttempt();
    assert.equal(recovered.ok, true);
    assert.ok(h.sidecar.store.servable(), 'servable again as soon as STS answers');
  },
);

test(
  'permanent errors do not hammer STS; a new token file retries at once',
  {
    timeout: 30_000,
  },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    h.sts.injectFault({ code: 'AccessDenied', status: 403 }, { times: 1000 });
    await h.sidecar.start();
    assert.equal(h.outcomes[0]?.ok, false);
    const start = h.clock.now();
    while (h.clock.now() - start < 60 * MIN) {
      const outcome = await h.runNextAttempt();
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.equal(outcome.error.code, 'STS_ACCESS_DENIED');
        assert.ok(outcome.nextAttemptAt - h.clock.now() >= 4.5 * MIN, 'waits minutes, not seconds');
      }
    }
    assert.ok(h.sts.requests.length <= 15, `${h.sts.requests.length} requests in an hour`);
    h.sts.clearFaults();
    const before = h.sts.requests.length;
    const outcome = await h.nextOutcome(() => h.rotateToken());
    assert.equal(outcome.ok, true, 'the changed token file triggered an exchange');
    assert.equal(h.sts.requests.length, before + 1);
  },
);

test(
  'a token rotation does not trigger an exchange while credentials are good',
  {
    timeout: 20_000,
  },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    await h.sidecar.start();
    const next = h.sidecar.scheduler.nextAttemptAt;
    // The watcher reports the rotation; wait for that, then check nothing was exchanged.
    const changed = new Promise<void>((resolve) => h.sidecar.watcher.once('change', () => resolve()));
    await h.rotateToken();
    await changed;
    assert.equal(h.sts.requests.length, 1);
    assert.equal(h.sidecar.scheduler.nextAttemptAt, next);
  },
);

test('the next exchange uses the newest of 50 rotated tokens', { timeout: 30_000 }, async (t) => {
  const h = await EngineHarness.create();
  t.after(() => h.close());
  await h.sidecar.start();
  let latest = '';
  for (let i = 0; i < 50; i++) latest = await h.rotateToken({ claims: { rotation: i } });
  const outcome = await h.runNextAttempt();
  assert.equal(outcome.ok, true);
  assert.equal(h.sts.requests.at(-1)?.params.WebIdentityToken, latest);
});

const tokenProblems = [
  { name: 'missing', code: 'TOKEN_FILE_MISSING', make: async (h: EngineHarness) => h.volume.remove() },
  { name: 'empty', code: 'TOKEN_FILE_EMPTY', make: async (h: EngineHarness) => h.volume.write('\n') },
  {
    name: 'not a JWT',
    code: 'TOKEN_NOT_JWT',
    make: async (h: EngineHarness) => h.volume.write('hello-world'),
  },
  {
    name: 'expired',
    code: 'TOKEN_EXPIRED',
    make: async (h: EngineHarness) => {
      await h.rotateToken({ now: new Date(h.clock.now() - 7_200_000), lifetimeSeconds: 3600 });
    },
  },
] as const;

for (const p of tokenProblems) {
  test(
    `token file ${p.name}: ${p.code}, logged, counted, retried when the file changes`,
    {
      timeout: 20_000,
    },
    async (t) => {
      const h = await EngineHarness.create({ noToken: true });
      t.after(() => h.close());
      await p.make(h);
      await h.sidecar.start();
      const first = h.outcomes[0]!;
      assert.equal(first.ok, false);
      if (!first.ok) assert.equal(first.error.code, p.code);
      assert.equal(h.sts.requests.length, 0, 'STS is not called with a bad token');
      const metric = await h.metrics.registry.getSingleMetricAsString('sts_sidecar_token_read_errors_total');
      assert.match(metric, new RegExp(`code="${p.code}"} 1`));
      const line = h.logLines().find((l) => l.event === 'exchange' && l.result === 'failure');
      assert.equal((line?.err as { code?: string } | undefined)?.code, p.code);
      const outcome = await h.nextOutcome(() => h.rotateToken());
      assert.equal(outcome.ok, true, 'a good token file is picked up without waiting for the backoff');
    },
  );
}

test(
  'the audience that STS rejects is reported with the claims for diagnosis',
  {
    timeout: 20_000,
  },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    await h.rotateToken({ audience: 'someone-else' });
    await h.sidecar.start();
    const line = h.logLines().find((l) => l.event === 'exchange' && l.result === 'failure')!;
    assert.equal((line.err as { code: string }).code, 'STS_ACCESS_DENIED');
    assert.deepEqual(line.tokenAud, ['someone-else']);
    assert.equal(line.tokenSub, 'system:serviceaccount:shop:cart');
  },
);
