// RefreshScheduler on the virtual clock: when it exchanges, what it plans after each outcome,
// and that it never runs two exchanges at once. The attempt is a plain function (the exchanger's
// shape), so every case controls exactly what "STS" answers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { CredentialStore } from '../../src/credentials/credential-store.ts';
import type { Credentials } from '../../src/credentials/credentials.ts';
import { permanentRetryMs, refreshAt, transientBackoffMs } from '../../src/credentials/refresh-policy.ts';
import {
  type AttemptSuccess,
  type RefreshOutcome,
  RefreshScheduler,
  type RefreshSchedulerOptions,
} from '../../src/credentials/refresh-scheduler.ts';
import { SidecarError } from '../../src/shared/errors.ts';
import { VirtualClock } from '../helpers/virtual-clock.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
const random = (): number => 0.5;

/** What the fake STS answers next: credentials living `lifetimeMs`, or an error to throw. */
type Answer = { lifetimeMs: number } | { error: unknown };

function setup(options: Partial<RefreshSchedulerOptions<AttemptSuccess>> = {}, answers: Answer[] = []) {
  const clock = new VirtualClock(START);
  const store = new CredentialStore({ now: () => clock.now(), monotonicNow: () => clock.monotonicNow() });
  const signals: AbortSignal[] = [];
  let attempts = 0;
  const scheduler = new RefreshScheduler<AttemptSuccess>({
    attempt: async (signal) => {
      attempts += 1;
      signals.push(signal);
      const answer = answers.shift() ?? { lifetimeMs: HOUR };
      if ('error' in answer) throw answer.error;
      const credentials: Credentials = {
        accessKeyId: `AKID${attempts}`,
        secretAccessKey: 'secret',
        sessionToken: 'session',
        expiration: new Date(clock.now() + answer.lifetimeMs),
      };
      return { credentials };
    },
    store,
    clock,
    random,
    ...options,
  });
  const outcomes: RefreshOutcome<AttemptSuccess>[] = [];
  scheduler.on('outcome', (o) => outcomes.push(o));
  return { clock, store, scheduler, signals, outcomes, attempts: () => attempts };
}

/** Moves the clock to the next plan and waits for the attempt it starts. */
async function runNext(s: ReturnType<typeof setup>): Promise<RefreshOutcome<AttemptSuccess>> {
  const outcome = once(s.scheduler, 'outcome');
  s.clock.advanceTo(s.scheduler.nextAttemptAt!);
  return ((await outcome) as [RefreshOutcome<AttemptSuccess>])[0];
}

const transient = () => new SidecarError('STS_UNREACHABLE', 'connection refused');
const permanent = () => new SidecarError('STS_ACCESS_DENIED', 'trust policy');

test('first success: stored, and the next refresh drawn from the spread window', async () => {
  const s = setup();
  await s.scheduler.start();
  assert.equal(s.store.servable()?.accessKeyId, 'AKID1');
  assert.equal(s.scheduler.nextAttemptAt, refreshAt(START, START + HOUR, random, true));
});

test('a later success is planned from the usual 40-60 % window', async () => {
  const s = setup();
  await s.scheduler.start();
  const outcome = await runNext(s);
  assert.ok(outcome.ok);
  const at = s.clock.now();
  assert.equal(s.scheduler.nextAttemptAt, refreshAt(at, at + HOUR, random, false));
  assert.equal(s.attempts(), 2);
});

test('--max-refresh-interval-seconds caps the plan, and the refresh happens at the cap', async () => {
  const s = setup({ maxRefreshIntervalMs: 60_000 });
  await s.scheduler.start();
  assert.equal(s.scheduler.nextAttemptAt, START + 60_000);
  const outcome = await runNext(s);
  assert.ok(outcome.ok);
  assert.equal(s.clock.now(), START + 60_000);
  assert.equal(s.scheduler.nextAttemptAt, START + 120_000);
});

test('a cap longer than the lifetime rule changes nothing', async () => {
  const s = setup({ maxRefreshIntervalMs: 12 * HOUR });
  await s.scheduler.start();
  assert.equal(s.scheduler.nextAttemptAt, refreshAt(START, START + HOUR, random, true));
});

test('an Expiration beyond the DurationSeconds asked for is planned on DurationSeconds', async () => {
  const s = setup({ maxLifetimeMs: HOUR }, [{ lifetimeMs: 30 * 24 * HOUR }]);
  await s.scheduler.start();
  assert.equal(s.scheduler.nextAttemptAt, refreshAt(START, START + HOUR, random, true));
});

test('a transient failure backs off with full jitter; the held credentials stay', async () => {
  const s = setup({}, [{ lifetimeMs: HOUR }, { error: transient() }, { error: transient() }]);
  await s.scheduler.start();
  const first = await runNext(s);
  assert.ok(!first.ok && first.consecutiveFailures === 1);
  assert.equal(first.nextAttemptAt - s.clock.now(), transientBackoffMs(0, random));
  const second = await runNext(s);
  assert.ok(!second.ok && second.consecutiveFailures === 2);
  assert.equal(second.nextAttemptAt - s.clock.now(), transientBackoffMs(1, random));
  assert.equal(s.store.servable()?.accessKeyId, 'AKID1');
});

test('a permanent failure waits long, unless the token file changes', async () => {
  const s = setup({}, [{ error: permanent() }]);
  await s.scheduler.start();
  const failed = s.outcomes[0]!;
  assert.ok(!failed.ok);
  assert.equal(failed.nextAttemptAt - START, permanentRetryMs(random));
  const retried = once(s.scheduler, 'outcome');
  s.scheduler.tokenChanged();
  const [outcome] = (await retried) as [RefreshOutcome<AttemptSuccess>];
  assert.ok(outcome.ok, 'a new token is tried at once');
  assert.equal(s.clock.now(), START);
});

test('a token change while credentials are servable does not exchange early', async () => {
  const s = setup();
  await s.scheduler.start();
  const plan = s.scheduler.nextAttemptAt;
  s.scheduler.tokenChanged();
  assert.equal(s.scheduler.inFlight, false);
  assert.equal(s.attempts(), 1);
  assert.equal(s.scheduler.nextAttemptAt, plan);
});

// Issue #14: an unexpected throw is a bug, not an STS answer.
test('an unexpected throw becomes INTERNAL_ERROR, retried as transient', async () => {
  const s = setup({}, [{ error: new TypeError('x is not a function') }]);
  await s.scheduler.start();
  const outcome = s.outcomes[0]!;
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.code, 'INTERNAL_ERROR');
  assert.equal(outcome.error.retry, 'transient');
  assert.ok(outcome.error.cause instanceof TypeError, 'the cause is kept for the log');
});

test('single flight: a second refreshNow() joins the exchange in progress', async () => {
  const s = setup();
  const a = s.scheduler.refreshNow();
  const b = s.scheduler.refreshNow();
  assert.equal(a, b);
  await a;
  assert.equal(s.attempts(), 1);
});

test('stop() aborts the exchange in flight and plans nothing', async () => {
  const s = setup();
  const running = s.scheduler.start();
  await s.scheduler.stop();
  await running;
  assert.equal(s.signals[0]?.aborted, true);
  assert.equal(s.scheduler.nextAttemptAt, undefined);
  assert.equal(s.clock.nextTimerAt(), undefined, 'no timer left behind');
});

test('a wall-clock jump is reported and triggers a refresh at the next wake-up', async () => {
  const s = setup();
  await s.scheduler.start();
  const jumps: number[] = [];
  s.scheduler.on('clockJump', ({ jumpMs }) => jumps.push(jumpMs));
  const refreshed = once(s.scheduler, 'outcome');
  s.clock.jumpWallClock(10 * 60_000);
  s.clock.advanceBy(10_000);
  await refreshed;
  assert.equal(jumps.length, 1);
  assert.equal(s.attempts(), 2);
});

test('credentials that stop being servable are refreshed at the next wake-up, plan or not', async () => {
  // 2 min of life: servable for 60 s, then the store refuses them; the plan may be later.
  const s = setup({}, [{ lifetimeMs: 2 * 60_000 }]);
  await s.scheduler.start();
  const refreshed = once(s.scheduler, 'outcome');
  s.clock.advanceTo(START + 60_000 + 10_000);
  await refreshed;
  assert.equal(s.store.servable()?.accessKeyId, 'AKID2');
});
