import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BACKOFF_CAP_MS,
  BACKOFF_FLOOR_MS,
  PERMANENT_RETRY_MS,
  permanentRetryMs,
  refreshAt,
  refreshWindow,
  transientBackoffMs,
} from '../../src/credentials/refresh-policy.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

const windows: Array<{ name: string; lifetimeMs: number; earliestMs: number; latestMs: number }> = [
  // 3600 s: 50 % +- 10 % = 24..36 min after issue, i.e. 24..36 min left: inside the 20 min rule.
  { name: '1 h lifetime: 40-60 % of it', lifetimeMs: 60 * MIN, earliestMs: 24 * MIN, latestMs: 36 * MIN },
  // 12 h: 60 % is 7.2 h, leaves 4.8 h, fine.
  { name: '12 h lifetime', lifetimeMs: 720 * MIN, earliestMs: 288 * MIN, latestMs: 432 * MIN },
  // 30 min: 40-60 % = 12..18 min, but refresh must start by 30-20 = 10 min after issue.
  {
    name: '30 min lifetime is clamped to 20 min before expiry',
    lifetimeMs: 30 * MIN,
    earliestMs: 10 * MIN,
    latestMs: 10 * MIN,
  },
  // 40 min: 16..24 min; 20 min before expiry is minute 20: latest clamps to 20.
  { name: '40 min lifetime: latest clamps', lifetimeMs: 40 * MIN, earliestMs: 16 * MIN, latestMs: 20 * MIN },
  // 15 min: the lifetime does not allow 20 min, so plain 50 % +- 10 %.
  {
    name: '15 min lifetime: no clamp possible',
    lifetimeMs: 15 * MIN,
    earliestMs: 6 * MIN,
    latestMs: 9 * MIN,
  },
  { name: '10 s lifetime (tests)', lifetimeMs: 10_000, earliestMs: 4_000, latestMs: 6_000 },
];

for (const w of windows) {
  test(`refresh window: ${w.name}`, () => {
    const { earliest, latest } = refreshWindow(T0, T0 + w.lifetimeMs);
    assert.equal(earliest - T0, w.earliestMs);
    assert.equal(latest - T0, w.latestMs);
    assert.equal(
      refreshAt(T0, T0 + w.lifetimeMs, () => 0),
      earliest,
    );
    assert.ok(refreshAt(T0, T0 + w.lifetimeMs, () => 0.999999) <= latest);
  });
}

test('refresh time is uniform over the window', () => {
  const at = refreshAt(T0, T0 + 60 * MIN, () => 0.5);
  assert.equal(at - T0, 30 * MIN);
});

test('transient backoff doubles from 1 s to a 60 s cap with full jitter', () => {
  const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000];
  ceilings.forEach((ceiling, attempt) => {
    assert.equal(
      transientBackoffMs(attempt, () => 0.999999999),
      ceiling * 0.999999999,
      `attempt ${attempt}`,
    );
    assert.equal(
      transientBackoffMs(attempt, () => 0.5),
      Math.max(BACKOFF_FLOOR_MS, ceiling / 2),
    );
  });
  assert.equal(
    transientBackoffMs(0, () => 0),
    BACKOFF_FLOOR_MS,
    'never zero',
  );
  assert.equal(
    transientBackoffMs(1000, () => 1),
    BACKOFF_CAP_MS,
    'huge attempt numbers stay capped',
  );
});

test('permanent retry waits about 5 min, +-10 %', () => {
  assert.equal(
    permanentRetryMs(() => 0),
    PERMANENT_RETRY_MS * 0.9,
  );
  assert.equal(
    permanentRetryMs(() => 1),
    PERMANENT_RETRY_MS * 1.1,
  );
});
