import { EventEmitter } from 'node:events';
import type { Credentials } from './credentials.ts';

/**
 * Below this much remaining lifetime credentials are never served: every SDK's blocking refresh
 * window is at least this wide (Java refreshes synchronously at exp - 1 min; docs/design/upstream-facts.md),
 * so an SDK handed them would come straight back.
 */
export const MIN_REMAINING_MS = 60_000;

/**
 * A store clock lead (an upper bound from the HTTP Date header, response-guard.ts) at or below
 * this is noise: with clocks in sync the bound alone is 1 s plus a round trip.
 */
export const CLOCK_SKEW_NOISE_MS = 2_000;

export interface CredentialStoreOptions {
  /** Clock in ms since the epoch. */
  now: () => number;
  /**
   * Monotonic ms (Clock.monotonicNow). When given, expiry is checked against the later of the
   * wall clock and the wall time at `set()` advanced by monotonic time, so a wall clock stepped
   * back cannot make expired credentials look valid, even before the scheduler notices the jump.
   */
  monotonicNow?: () => number;
  /** Never serve credentials with less than this left; default {@link MIN_REMAINING_MS}. */
  minRemainingMs?: number;
}

/**
 * Holds the current credentials and answers one question: may they be served now? It never
 * extends an expiry and never serves credentials inside the safety margin, whatever else fails.
 * Emits 'change' with the new credentials (or undefined) whenever they are replaced or cleared.
 */
export class CredentialStore extends EventEmitter<{ change: [Credentials | undefined] }> {
  readonly minRemainingMs: number;
  readonly #now: () => number;
  readonly #monotonicNow: (() => number) | undefined;
  /** Wall and monotonic time at the last set(). */
  #setAtWall = 0;
  #setAtMonotonic = 0;
  #current: Credentials | undefined;
  /** How far the store's clock runs ahead of ours, as applied to expiry checks (>= 0). */
  #storeAheadMs = 0;

  constructor(options: CredentialStoreOptions) {
    super();
    this.#now = options.now;
    this.#monotonicNow = options.monotonicNow;
    this.minRemainingMs = options.minRemainingMs ?? MIN_REMAINING_MS;
  }

  /**
   * Replaces the credentials. `storeClockAheadMs` is the store's clock minus ours, measured
   * from the STS reply's Date header: when the store runs ahead, its view of the expiry comes
   * sooner than ours, and "never serve with < 60 s left" must hold by its clock, not ours
   * (issue #13, item 6). A store running behind never extends anything.
   */
  set(credentials: Credentials, storeClockAheadMs = 0): void {
    this.#storeAheadMs = storeClockAheadMs > CLOCK_SKEW_NOISE_MS ? storeClockAheadMs : 0;
    this.#setAtWall = this.#now();
    this.#setAtMonotonic = this.#monotonicNow?.() ?? 0;
    this.#current = credentials;
    this.emit('change', credentials);
  }

  clear(): void {
    this.#current = undefined;
    this.emit('change', undefined);
  }

  /** The credentials if they have at least `minRemainingMs` left now, else undefined. */
  servable(): Credentials | undefined {
    const c = this.#current;
    if (c === undefined) return undefined;
    return c.expiration.getTime() - this.#storeAheadMs - this.#checkNow() >= this.minRemainingMs
      ? c
      : undefined;
  }

  /** The later of the wall clock and the wall time at set() moved on by the monotonic clock. */
  #checkNow(): number {
    const wall = this.#now();
    if (this.#monotonicNow === undefined) return wall;
    return Math.max(wall, this.#setAtWall + (this.#monotonicNow() - this.#setAtMonotonic));
  }

  /** The store clock lead applied to the expiry checks (ms, >= 0). */
  get storeClockAheadMs(): number {
    return this.#storeAheadMs;
  }

  /** Expiry of what is held, moved earlier by the store's clock lead: what our clock must compare against. */
  effectiveExpiry(): number | undefined {
    return this.#current === undefined ? undefined : this.#current.expiration.getTime() - this.#storeAheadMs;
  }

  /** Last instant (ms) at which the held credentials are servable; undefined when none are held. */
  servableUntil(): number | undefined {
    const expiry = this.effectiveExpiry();
    return expiry === undefined ? undefined : expiry - this.minRemainingMs;
  }

  /** Expiry of what is held, servable or not (for metrics). */
  expiration(): Date | undefined {
    return this.#current?.expiration;
  }
}
