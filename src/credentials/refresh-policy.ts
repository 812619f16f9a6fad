/**
 * When to refresh and how long to back off: pure functions of times and a random number, so
 * the numbers can be tested exactly.
 */
import { MIN_REMAINING_MS } from './credential-store.ts';

/** Refresh at this fraction of the credentials' lifetime... */
export const REFRESH_AT_LIFETIME_FRACTION = 0.5;
/** ...plus or minus this fraction of the lifetime, uniformly, so a fleet of pods spreads out. */
export const REFRESH_JITTER_FRACTION = 0.1;
/**
 * Start refreshing no later than this before expiry when the lifetime allows: the widest SDK
 * advisory window is 15 min (botocore; Java for 20-90 min lifetimes; docs/design/upstream-facts.md), so
 * credentials served with more than 20 min left never push an SDK into refreshing per call.
 */
export const LATEST_REFRESH_BEFORE_EXPIRY_MS = 20 * 60_000;
/**
 * Credentials are served until `expiry - MIN_REMAINING_MS` (credential-store.ts). The refresh
 * must land this long before that cut-off, so that a default STS timeout (10 s) plus a few
 * backoff retries still fit; otherwise short lifetimes (< ~150 s) leave 503 gaps while STS is
 * healthy (issue #13, item 7).
 */
export const REFRESH_BEFORE_CUTOFF_MS = 30_000;
/**
 * Never plan a refresh sooner than this after the last one, however short the lifetime: a
 * store handing out ~60 s credentials must not turn into a tight exchange loop.
 */
export const MIN_REFRESH_DELAY_MS = 5_000;
/**
 * After a herd moment (a pod's first exchange, or its first success after failures) the next
 * refresh may come this early in the lifetime instead of at 40 %: pods that all succeeded in
 * the same minute, after a rollout or an STS outage, then spread their next refresh over
 * 10-60 % of the lifetime (30 min for 1 h credentials) instead of 40-60 % (12 min), and the
 * fleet's STS rate is back near its mean after one cycle (npm run simulate).
 */
export const SPREAD_EARLIEST_FRACTION = 0.1;
/** Transient failures: full-jitter exponential backoff from 1 s, capped at 60 s. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 60_000;
/** Full jitter can draw ~0; never retry faster than this. */
export const BACKOFF_FLOOR_MS = 250;
/** Permanent failures: retrying cannot help until something changes; look again this rarely. */
export const PERMANENT_RETRY_MS = 5 * 60_000;

export interface RefreshWindow {
  /** Earliest instant the policy may pick (ms). */
  readonly earliest: number;
  /** Latest instant the policy may pick (ms). */
  readonly latest: number;
}

/**
 * The interval from which {@link refreshAt} draws, for credentials obtained at `obtainedAt`.
 * Bounds, later ones win:
 * 1. 50 % +- 10 % of the lifetime;
 * 2. latest no later than 20 min before expiry, when the lifetime allows;
 * 3. latest no later than {@link REFRESH_BEFORE_CUTOFF_MS} before the serve cut-off
 *    (`expiresAt - MIN_REMAINING_MS`), when the lifetime allows; else halfway to the cut-off;
 * 4. never sooner than {@link MIN_REFRESH_DELAY_MS} after `obtainedAt`.
 */
export function refreshWindow(obtainedAt: number, expiresAt: number): RefreshWindow {
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  let earliest = obtainedAt + lifetime * (REFRESH_AT_LIFETIME_FRACTION - REFRESH_JITTER_FRACTION);
  let latest = obtainedAt + lifetime * (REFRESH_AT_LIFETIME_FRACTION + REFRESH_JITTER_FRACTION);
  const deadline = expiresAt - LATEST_REFRESH_BEFORE_EXPIRY_MS;
  if (deadline > obtainedAt) latest = Math.min(latest, deadline);
  const cutoff = expiresAt - MIN_REMAINING_MS;
  const beforeCutoff =
    cutoff - REFRESH_BEFORE_CUTOFF_MS > obtainedAt + MIN_REFRESH_DELAY_MS
      ? cutoff - REFRESH_BEFORE_CUTOFF_MS
      : obtainedAt + (cutoff - obtainedAt) / 2;
  latest = Math.max(obtainedAt + MIN_REFRESH_DELAY_MS, Math.min(latest, beforeCutoff));
  earliest = Math.max(obtainedAt + MIN_REFRESH_DELAY_MS, Math.min(earliest, latest));
  return { earliest, latest };
}

/**
 * When to refresh credentials obtained at `obtainedAt` that expire at `expiresAt`. With
 * `spread`, the window starts at {@link SPREAD_EARLIEST_FRACTION} of the lifetime (never after
 * its usual start, never before the 5 s floor).
 */
export function refreshAt(
  obtainedAt: number,
  expiresAt: number,
  random: () => number,
  spread = false,
): number {
  const { earliest, latest } = refreshWindow(obtainedAt, expiresAt);
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  const from = spread
    ? Math.min(
        earliest,
        Math.max(obtainedAt + MIN_REFRESH_DELAY_MS, obtainedAt + lifetime * SPREAD_EARLIEST_FRACTION),
      )
    : earliest;
  return from + (latest - from) * random();
}

/** Delay before retry number `attempt` (0 = first retry) after a transient failure. */
export function transientBackoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.max(BACKOFF_FLOOR_MS, ceiling * random());
}

/** Delay before looking again after a permanent failure, ±10 % so pods do not align. */
export function permanentRetryMs(random: () => number): number {
  return PERMANENT_RETRY_MS * (0.9 + 0.2 * random());
}
