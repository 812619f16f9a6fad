import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SUCCESS_BODY_BYTES } from '../../src/sts/response-guard.ts';
import { EngineHarness } from '../helpers/engine-harness.ts';

const MIN = 60_000;

// Regression tests for issue #13 (fault hunt), engine on a virtual clock against the fake STS.

// Issue #13, item 2: a 5 MB 200 reply took the sidecar to ~790 MiB RSS (OOM-killed at 192 MiB).
test(
  'an oversized 200 reply is a clean STS_BAD_RESPONSE, and the next exchange works',
  { timeout: 30_000 },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    h.sts.injectFault('huge200');
    const failed = await h.nextOutcome(() => h.sidecar.start());
    assert.equal(failed.ok, false);
    assert.ok(!failed.ok && failed.error.code === 'STS_BAD_RESPONSE', JSON.stringify(failed));
    assert.match(!failed.ok ? failed.error.message : '', new RegExp(`${MAX_SUCCESS_BODY_BYTES}-byte cap`));
    assert.equal(h.sidecar.store.servable(), undefined, 'nothing from the oversized reply is held');
    const next = await h.runNextAttempt();
    assert.equal(next.ok, true);
  },
);

// Issue #13, item 4: after a forward jump of the wall clock, expiry (wall clock) said the
// credentials were gone while the refresh timer (monotonic) still waited its old delay.
test(
  'a forward wall-clock jump: the next wake-up refreshes, STS is not left idle while nothing is served',
  { timeout: 30_000 },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    await h.sidecar.start();
    const expiresAt = h.sidecar.store.servable()!.expiration.getTime();
    // A suspend of 59.5 min: 30 s of the hour-long credentials are left by the wall clock.
    h.clock.jumpWallClock(expiresAt - 30_000 - h.clock.now());
    assert.equal(h.sidecar.store.servable(), undefined);
    const refreshed = h.nextOutcome(() => h.clock.advanceBy(10_000));
    assert.ok(h.sidecar.scheduler.inFlight, 'an exchange starts within one wake-up interval');
    assert.equal((await refreshed).ok, true);
    assert.ok(h.sidecar.store.servable());
    assert.ok(
      h.logLines().some((l) => l.event === 'clock_jump'),
      'the jump is logged',
    );
  },
);

// Issue #13, item 4, the other direction: a wall clock stepped back must not make expired
// credentials look valid before the scheduler's next wake-up notices the jump.
test(
  'a backward wall-clock jump: expiry still follows the monotonic clock',
  { timeout: 30_000 },
  async (t) => {
    const h = await EngineHarness.create();
    t.after(() => h.close());
    await h.sidecar.start();
    h.sts.injectFault('http503', { times: 100_000 });
    const expiresAt = h.sidecar.store.servable()!.expiration.getTime();
    while (h.sidecar.scheduler.nextAttemptAt! < expiresAt - 2 * MIN) await h.runNextAttempt();
    h.clock.advanceTo(expiresAt - 61_000);
    assert.ok(h.sidecar.store.servable(), '61 s left');
    h.clock.jumpWallClock(-30 * MIN);
    assert.ok(h.sidecar.store.servable(), 'still 61 s left by the monotonic clock');
    // 2 s of monotonic time: whatever the scheduler does meanwhile, the store alone must refuse.
    h.clock.advanceBy(2_000);
    assert.equal(h.sidecar.store.servable(), undefined, '59 s left by the monotonic clock: not served');
  },
);

// Issue #13, item 6: with the store 120 s ahead and STS down, credentials were served ~60 s
// after the store considered them expired, and nothing reported the skew.
test(
  'store clock 120 s ahead, STS down: nothing is served with < 60 s left by the store clock; skew is reported',
  { timeout: 60_000 },
  async (t) => {
    const h = await EngineHarness.create({ credentialLifetimeSeconds: 900 });
    t.after(() => h.close());
    h.sts.setClockSkew(120_000);
    await h.sidecar.start();
    const held = h.sidecar.store.servable()!;
    const expiresAt = held.expiration.getTime();
    const gauge = await h.metrics.registry.getSingleMetricAsString('sts_sidecar_store_clock_ahead_seconds');
    const skew = Number(/ (-?[\d.]+)$/m.exec(gauge)?.[1]);
    assert.ok(skew >= 120 && skew <= 122, `gauge ${skew} (an upper bound: Date has whole seconds)`);
    const line = h.logLines().find((l) => l.event === 'exchange' && l.result === 'success')!;
    assert.equal(typeof line.storeClockAheadMs, 'number');
    h.sts.injectFault('http503', { times: 100_000 });
    let served = 0;
    for (let at = h.clock.now(); at < expiresAt; at += 5_000) {
      while (h.sidecar.scheduler.nextAttemptAt !== undefined && h.sidecar.scheduler.nextAttemptAt <= at)
        await h.runNextAttempt();
      h.clock.advanceTo(at);
      if (h.sidecar.store.servable() === undefined) continue;
      served += 1;
      const leftByStore = expiresAt - h.sts.storeNow();
      assert.ok(leftByStore >= MIN, `served with ${leftByStore} ms left by the store's clock`);
    }
    assert.ok(served > 100, `served at ${served} instants`);
  },
);

// Issue #13, item 7: below ~150 s of lifetime the refresh (40-60 %) landed after serving had
// stopped (lifetime - 60 s): 503 gaps while STS was healthy.
test(
  '120 s lifetimes with STS healthy: credentials are servable right up to every refresh',
  { timeout: 60_000 },
  async (t) => {
    const h = await EngineHarness.create({ credentialLifetimeSeconds: 120 });
    t.after(() => h.close());
    await h.sidecar.start();
    for (let cycle = 0; cycle < 20; cycle++) {
      const at = h.sidecar.scheduler.nextAttemptAt!;
      h.clock.advanceTo(at - 1);
      assert.ok(h.sidecar.store.servable(), `cycle ${cycle}: a gap before the refresh`);
      assert.equal((await h.runNextAttempt()).ok, true);
    }
    assert.ok(
      h.logLines().some((l) => l.event === 'short_lifetime'),
      'the short lifetime is pointed out',
    );
  },
);

// Issue #13, item 5: stop() waited for an exchange in flight to time out.
test(
  'stop() aborts an exchange in flight: no failure is recorded, the hung call is cut',
  { timeout: 30_000 },
  async (t) => {
    const h = await EngineHarness.create({ env: { STS_SIDECAR_STS_TIMEOUT_SECONDS: '120' } });
    t.after(() => h.close());
    h.sts.injectFault('hang');
    const asked = h.sts.waitForRequests(1);
    void h.sidecar.start();
    await asked;
    assert.ok(h.sidecar.scheduler.inFlight);
    await h.sidecar.stop();
    assert.equal(h.outcomes.length, 0, 'an aborted exchange is not an STS failure');
    assert.equal(h.sidecar.scheduler.inFlight, false);
  },
);
