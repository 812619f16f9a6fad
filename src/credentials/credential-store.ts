import { EventEmitter } from 'node:events';
import type { Credentials } from './credentials.ts';

/**
 * Below this much remaining lifetime credentials are never served: every SDK's blocking refresh
 * window is at least this wide (Java refreshes synchronously at exp - 1 min; research table b),
 * so an SDK handed them would come straight back.
 */
export const MIN_REMAINING_MS = 60_000;

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

  constructor(options: CredentialStoreOptions) {
    super();
    this.#now = options.now;
    this.minRemainingMs = options.minRemainingMs ?? MIN_REMAINING_MS;
  }

  set(credentials: Credentials): void {
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
    return c.expiration.getTime() - this.#now() >= this.minRemainingMs ? c : undefined;
  }

  /** Last instant (ms) at which the held credentials are servable; undefined when none are held. */
  servableUntil(): number | undefined {
    return this.#current === undefined ? undefined : this.#current.expiration.getTime() - this.minRemainingMs;
  }

  /** Expiry of what is held, servable or not (for metrics). */
  expiration(): Date | undefined {
    return this.#current?.expiration;
  }
}
