import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BACKOFF_CAP_MS,
  BACKOFF_FLOOR_MS,
  PERMANENT_RETRY_MS,
  REFRESH_BEFORE_CUTOFF_MS,
  permanentRetryMs,
  refreshAt,
  refreshWindow,
  transientBackoffMs,
} from '../../src/credentials/refresh-policy.ts';
import { MIN_REMAINING_MS } from '../../src/credentials/credential-store.ts';

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
  // Issue #13, item 7: short lifetimes refresh before the serve cut-off (expiry - 60 s) with 30 s
  // to spare, where the lifetime allows it.
  // 150 s: 40-60 % = 60..90 s, but the cut-off is at 90 s: latest 60 s.
  {
    name: '150 s lifetime: 30 s before the cut-off',
    lifetimeMs: 150_000,
    earliestMs: 60_000,
    latestMs: 60_000,
  },
  // 120 s: cut-off at 60 s, latest 30 s; 40 % (48 s) comes later, so the window is a point.
  { name: '120 s lifetime', lifetimeMs: 120_000, earliestMs: 30_000, latestMs: 30_000 },
  // 80 s: cut-off at 20 s, no room for 30 s before it: halfway to the cut-off.
  { name: '80 s lifetime: halfway to the cut-off', lifetimeMs: 80_000, earliestMs: 10_000, latestMs: 10_000 },
  // 10 s (never served: it is inside the 60 s margin from the start): not sooner than 5 s.
  { name: '10 s lifetime: never a tight loop', lifetimeMs: 10_000, earliestMs: 5_000, latestMs: 5_000 },
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

// Issue #13, item 7: below ~150 s of lifetime the refresh (40-60 %) landed after serving had
// stopped (lifetime - 60 s): 503 gaps while STS was healthy.
// Below 70 s the 5 s floor wins over halfway-to-the-cut-off: no tight loop, a brief 503 instead.
test('every lifetime from 70 s to 2 h refreshes before the serve cut-off', () => {
  for (let lifetimeS = 70; lifetimeS <= 7200; lifetimeS += 1) {
    const expiresAt = T0 + lifetimeS * 1000;
    const { latest } = refreshWindow(T0, expiresAt);
    assert.ok(latest < expiresAt - MIN_REMAINING_MS, `${lifetimeS} s: refresh at ${latest - T0} ms`);
    if (lifetimeS >= 100)
      assert.ok(latest <= expiresAt - MIN_REMAINING_MS - REFRESH_BEFORE_CUTOFF_MS, `${lifetimeS} s`);
  }
});

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

// Issue #13 (fleet simulation): after a rollout or an STS outage, the pods that succeeded in the
// same minute spread their next refresh over 10-60 % of the lifetime, not 40-60 %.
test('a spread refresh draws from 10 % of the lifetime to the usual latest', () => {
  const expiresAt = T0 + 60 * MIN;
  assert.equal(refreshAt(T0, expiresAt, () => 0, true) - T0, 6 * MIN);
  assert.equal(refreshAt(T0, expiresAt, () => 1, true) - T0, 36 * MIN);
  assert.equal(refreshAt(T0, expiresAt, () => 0, false) - T0, 24 * MIN);
  // Short lifetimes keep their floor and cut-off bounds.
  assert.equal(refreshAt(T0, T0 + 120_000, () => 0, true) - T0, 12_000);
  assert.equal(refreshAt(T0, T0 + 10_000, () => 0, true) - T0, 5_000);
});
