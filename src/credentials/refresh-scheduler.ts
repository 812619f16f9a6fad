import { EventEmitter } from 'node:events';
import { isSidecarError, SidecarError } from '../errors.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { CredentialStore } from './credential-store.ts';
import type { Credentials } from './credentials.ts';
import { permanentRetryMs, refreshAt, transientBackoffMs } from './refresh-policy.ts';

/** What one attempt returns on success: the credentials plus whatever the caller wants logged. */
export interface AttemptSuccess {
  readonly credentials: Credentials;
}

export type RefreshOutcome<T extends AttemptSuccess> =
  | {
      readonly ok: true;
      readonly result: T;
      readonly startedAt: number;
      readonly durationMs: number;
      /** When the next refresh is due. */
      readonly nextAttemptAt: number;
    }
  | {
      readonly ok: false;
      readonly error: SidecarError;
      readonly startedAt: number;
      readonly durationMs: number;
      /** Failures in a row, this one included. */
      readonly consecutiveFailures: number;
      /** When the next attempt is due, unless a changed token file brings it forward. */
      readonly nextAttemptAt: number;
    };

export interface RefreshSchedulerOptions<T extends AttemptSuccess> {
  /**
   * One exchange: read the token, call STS, validate. Rejects with a SidecarError whose code
   * decides what happens next (see errors.ts retry classes).
   */
  attempt: () => Promise<T>;
  store: CredentialStore;
  clock: Clock;
  /** Uniform in [0, 1); injected for deterministic tests. */
  random: () => number;
  /** Refresh at least this often (ms), whatever the lifetime; undefined = lifetime rule only. */
  maxRefreshIntervalMs?: number | undefined;
}

/**
 * Decides when to exchange: at 50 % ± 10 % of the lifetime (never later than 20 min before
 * expiry when the lifetime allows), with full-jitter backoff after transient failures and a
 * long wait after permanent ones. Only one exchange is ever in flight (one pending promise,
 * like smithy's memoize). It never touches credentials except to store new ones: expiry is the
 * store's business, so old credentials stay in service exactly until they stop being servable.
 *
 * Emits 'outcome' after every attempt.
 */
export class RefreshScheduler<T extends AttemptSuccess> extends EventEmitter<{
  outcome: [RefreshOutcome<T>];
}> {
  readonly #options: RefreshSchedulerOptions<T>;
  #inFlight: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #nextAttemptAt: number | undefined;
  #consecutiveFailures = 0;
  /** The last attempt failed for a reason retrying cannot fix. */
  #blocked = false;
  /** The token file changed while an attempt was in flight. */
  #tokenChangedInFlight = false;
  #stopped = false;

  constructor(options: RefreshSchedulerOptions<T>) {
    super();
    this.#options = options;
  }

  /** When the next attempt is due (ms), or undefined while one is in flight or after stop(). */
  get nextAttemptAt(): number | undefined {
    return this.#nextAttemptAt;
  }

  get inFlight(): boolean {
    return this.#inFlight !== undefined;
  }

  /** Starts the first exchange now. */
  start(): Promise<void> {
    return this.refreshNow();
  }

  /** Exchanges now, or joins the exchange already in flight. */
  refreshNow(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#inFlight) return this.#inFlight;
    this.#cancelTimer();
    this.#inFlight = this.#run().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /**
   * The token file changed. A new token only matters when the current credentials were
   * refused or are gone; otherwise the next scheduled refresh reads it anyway, and exchanging
   * early would make every pod on a node hit STS at each kubelet rotation.
   */
  tokenChanged(): void {
    if (this.#stopped) return;
    if (this.#inFlight) {
      this.#tokenChangedInFlight = true;
      return;
    }
    if (this.#blocked || this.#options.store.servable() === undefined) void this.refreshNow();
  }

  /** Stops scheduling; waits for an exchange in flight. Held credentials stay in the store. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer();
    await this.#inFlight;
  }

  async #run(): Promise<void> {
    const { attempt, store, clock, random } = this.#options;
    const startedAt = clock.now();
    this.#tokenChangedInFlight = false;
    let result: T;
    try {
      result = await attempt();
    } catch (error) {
      this.#onFailure(toSidecarError(error), startedAt);
      return;
    }
    store.set(result.credentials);
    this.#consecutiveFailures = 0;
    this.#blocked = false;
    const finishedAt = clock.now();
    const byLifetime = refreshAt(finishedAt, result.credentials.expiration.getTime(), random);
    const { maxRefreshIntervalMs } = this.#options;
    const nextAttemptAt =
      maxRefreshIntervalMs === undefined
        ? byLifetime
        : Math.min(byLifetime, finishedAt + maxRefreshIntervalMs);
    this.#schedule(nextAttemptAt);
    this.emit('outcome', { ok: true, result, startedAt, durationMs: finishedAt - startedAt, nextAttemptAt });
  }

  #onFailure(error: SidecarError, startedAt: number): void {
    const { clock, random } = this.#options;
    const finishedAt = clock.now();
    this.#consecutiveFailures += 1;
    let delayMs: number;
    if (error.retry === 'transient') {
      this.#blocked = false;
      delayMs = transientBackoffMs(this.#consecutiveFailures - 1, random);
    } else {
      this.#blocked = true;
      // A rotation that landed while this attempt was running may be the fix: try it at once.
      delayMs = this.#tokenChangedInFlight ? 0 : permanentRetryMs(random);
    }
    const nextAttemptAt = finishedAt + delayMs;
    this.#schedule(nextAttemptAt);
    this.emit('outcome', {
      ok: false,
      error,
      startedAt,
      durationMs: finishedAt - startedAt,
      consecutiveFailures: this.#consecutiveFailures,
      nextAttemptAt,
    });
  }

  #schedule(at: number): void {
    if (this.#stopped) return;
    this.#cancelTimer();
    this.#nextAttemptAt = at;
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      void this.refreshNow();
    }, at - this.#options.clock.now());
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#nextAttemptAt = undefined;
  }
}

/** Anything unexpected from an attempt is a bug or an unclassified failure: retry it softly. */
function toSidecarError(error: unknown): SidecarError {
  if (isSidecarError(error)) return error;
  // Only the error's type: an unexpected message could carry anything, secrets included.
  const kind = error instanceof Error ? error.name : typeof error;
  return new SidecarError('STS_BAD_RESPONSE', `unexpected failure during exchange (${kind})`, {
    cause: error,
  });
}
