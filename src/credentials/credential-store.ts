import { EventEmitter } from 'node:events';
import type { Credentials } from './credentials.ts';

/**
 * Below this much remaining lifetime credentials are never served: every SDK's blocking refresh
 * window is at least this wide (Java refreshes synchronously at exp - 1 min; research table b),
 * so an SDK handed them would come straight back.
 */
export const MIN_REMAINING_MS = 60_000;

/**
 * A measured store clock lead below this is noise: the HTTP Date header has 1 s resolution and
 * the reply spends a round trip in flight (RFC 9110 section 6.6.1).
 */
export const CLOCK_SKEW_NOISE_MS = 2_000;
/** Added to a lead above the noise: the Date header is truncated to the second, so the true lead may be up to 1 s more. */
const DATE_RESOLUTION_MS = 1_000;

export interface CredentialStoreOptions {
  /** Clock in ms since the epoch. */
  now: () => number;
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
  #current: Credentials | undefined;
  /** How far the store's clock runs ahead of ours, as applied to expiry checks (>= 0). */
  #storeAheadMs = 0;

  constructor(options: CredentialStoreOptions) {
    super();
    this.#now = options.now;
    this.minRemainingMs = options.minRemainingMs ?? MIN_REMAINING_MS;
  }

  /**
   * Replaces the credentials. `storeClockAheadMs` is the store's clock minus ours, measured
   * from the STS reply's Date header: when the store runs ahead, its view of the expiry comes
   * sooner than ours, and "never serve with < 60 s left" must hold by its clock, not ours
   * (issue #13, item 6). A store running behind never extends anything.
   */
  set(credentials: Credentials, storeClockAheadMs = 0): void {
    this.#storeAheadMs = storeClockAheadMs > CLOCK_SKEW_NOISE_MS ? storeClockAheadMs + DATE_RESOLUTION_MS : 0;
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
    return c.expiration.getTime() - this.#storeAheadMs - this.#now() >= this.minRemainingMs ? c : undefined;
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
