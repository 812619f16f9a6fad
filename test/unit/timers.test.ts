import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../src/credentials/clock.ts';
import type { Credentials } from '../../src/credentials/credentials.ts';
import { CredentialStore } from '../../src/credentials/credential-store.ts';
import { RefreshScheduler } from '../../src/credentials/refresh-scheduler.ts';
import { MAX_TIMER_DELAY_MS, safeDelayMs } from '../../src/shared/timers.ts';
import { VirtualClock } from '../helpers/virtual-clock.ts';

const DAY = 86_400_000;

const delays: Array<[string, number, number]> = [
  ['negative', -5, 0],
  ['NaN', Number.NaN, 0],
  ['zero', 0, 0],
  ['ordinary', 1_500, 1_500],
  ['the maximum', MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS],
  ['one above', MAX_TIMER_DELAY_MS + 1, MAX_TIMER_DELAY_MS],
  ['half a year', 182 * DAY, MAX_TIMER_DELAY_MS],
  ['infinity', Number.POSITIVE_INFINITY, MAX_TIMER_DELAY_MS],
];
for (const [name, input, want] of delays)
  test(`safeDelayMs: ${name}`, () => assert.equal(safeDelayMs(input), want));

// Issue #13, item 1: a delay above 2^31 - 1 ms is clamped by Node to 1 ms with a
// TimeoutOverflowWarning; the refresh timer then fired ~200 times a second.
test('the system clock never hands Node an overflowing delay', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  const handle = systemClock.setTimer(() => assert.fail('fired'), 182 * DAY);
  systemClock.clearTimer(handle);
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  assert.deepEqual(warnings, []);
});

// Issue #13, item 1: `--flavor minio --duration-seconds 31536000` (or an Expiration > ~41 days ahead).
test('a year-long lifetime: one exchange, and no timer ever longer than Node allows', async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  let longest = 0;
  const setTimer = clock.setTimer.bind(clock);
  clock.setTimer = (callback, delayMs) => {
    longest = Math.max(longest, delayMs);
    return setTimer(callback, delayMs);
  };
  const store = new CredentialStore({ now: () => clock.now() });
  let exchanges = 0;
  const scheduler = new RefreshScheduler({
    attempt: async () => {
      exchanges += 1;
      const credentials: Credentials = {
        accessKeyId: 'AKID',
        secretAccessKey: 'secret',
        sessionToken: 'session',
        expiration: new Date(clock.now() + 365 * DAY),
      };
      return { credentials };
    },
    store,
    clock,
    random: () => 0.5,
    maxLifetimeMs: 365 * DAY,
  });
  await scheduler.start();
  const firstPlan = scheduler.nextAttemptAt!;
  assert.ok(firstPlan - clock.now() > 100 * DAY, 'planned months ahead');
  clock.advanceBy(30 * DAY);
  assert.equal(exchanges, 1);
  assert.equal(scheduler.nextAttemptAt, firstPlan, 'wake-ups do not move the plan');
  assert.ok(longest <= MAX_TIMER_DELAY_MS, `longest timer ${longest} ms`);
  await scheduler.stop();
});

// The class of item 1: every timer in src/ goes through src/shared/timers.ts (or the injected Clock).
test('no module but src/shared/timers.ts calls setTimeout or setInterval directly', async () => {
  const root = new URL('../../src/', import.meta.url).pathname;
  const offenders: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    if (file.endsWith('/src/shared/timers.ts')) continue;
    const text = await readFile(file, 'utf8');
    if (/\bset(Timeout|Interval)\(|timers\/promises/.test(text)) offenders.push(file.slice(root.length));
  }
  assert.deepEqual(offenders, []);
});
