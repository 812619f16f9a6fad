/**
 * When to refresh and how long to back off: pure functions of times and a random number, so
 * the numbers can be tested exactly. Sources: research/anchors.md table (c), "Refresh policy".
 */

/** Refresh at this fraction of the credentials' lifetime... */
export const REFRESH_AT_LIFETIME_FRACTION = 0.5;
/** ...plus or minus this fraction of the lifetime, uniformly, so a fleet of pods spreads out. */
export const REFRESH_JITTER_FRACTION = 0.1;
/**
 * Start refreshing no later than this before expiry when the lifetime allows: the widest SDK
 * advisory window is 15 min (botocore; Java for 20-90 min lifetimes, research table b), so
 * credentials served with more than 20 min left never push an SDK into refreshing per call.
 */
export const LATEST_REFRESH_BEFORE_EXPIRY_MS = 20 * 60_000;
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

/** The interval from which {@link refreshAt} draws, for credentials obtained at `obtainedAt`. */
export function refreshWindow(obtainedAt: number, expiresAt: number): RefreshWindow {
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  let earliest = obtainedAt + lifetime * (REFRESH_AT_LIFETIME_FRACTION - REFRESH_JITTER_FRACTION);
  let latest = obtainedAt + lifetime * (REFRESH_AT_LIFETIME_FRACTION + REFRESH_JITTER_FRACTION);
  const deadline = expiresAt - LATEST_REFRESH_BEFORE_EXPIRY_MS;
  if (deadline > obtainedAt) {
    latest = Math.min(latest, deadline);
    earliest = Math.min(earliest, latest);
  }
  return { earliest, latest };
}

/** When to refresh credentials obtained at `obtainedAt` that expire at `expiresAt`. */
export function refreshAt(obtainedAt: number, expiresAt: number, random: () => number): number {
  const { earliest, latest } = refreshWindow(obtainedAt, expiresAt);
  return earliest + (latest - earliest) * random();
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
