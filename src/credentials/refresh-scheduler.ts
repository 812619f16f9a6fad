import { EventEmitter } from 'node:events';
import { isSidecarError, SidecarError } from '../shared/errors.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { CredentialStore } from './credential-store.ts';
import type { Credentials } from './credentials.ts';
import { permanentRetryMs, refreshAt, transientBackoffMs } from './refresh-policy.ts';

/** What one attempt returns on success: the credentials plus whatever the caller wants logged. */
export interface AttemptSuccess {
  readonly credentials: Credentials;
  /** The store's clock minus ours (ms), when the reply said (HTTP Date); see CredentialStore.set. */
  readonly storeClockAheadMs?: number | undefined;
}

/**
 * The scheduler wakes at least this often, whatever the plan, to compare the wall clock with
 * the monotonic one and with the store's view of expiry. Timers run on monotonic time; expiries
 * are wall-clock instants. Without these wake-ups a wall-clock jump (suspend/resume, NTP step)
 * left credentials expired by the wall clock while the timer still waited (issue #13, item 4),
 * and a plan months ahead overflowed Node's timer (item 1).
 */
export const WAKE_INTERVAL_MS = 10_000;
/** The wall clock moved this much more (or less) than the monotonic one between wake-ups: a jump. */
export const CLOCK_JUMP_TOLERANCE_MS = 2_000;

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
  attempt: (signal: AbortSignal) => Promise<T>;
  store: CredentialStore;
  clock: Clock;
  /** Uniform in [0, 1); injected for deterministic tests. */
  random: () => number;
  /** Refresh at least this often (ms), whatever the lifetime; undefined = lifetime rule only. */
  maxRefreshIntervalMs?: number | undefined;
  /**
   * Plan refreshes as if the credentials lived at most this long (ms): the DurationSeconds we
   * asked for. A store answering with an Expiration far beyond it (a skewed or bogus clock) then
   * cannot push the next refresh weeks out. Undefined = trust the Expiration.
   */
  maxLifetimeMs?: number | undefined;
  /** Longest single timer (ms); default {@link WAKE_INTERVAL_MS}. */
  wakeIntervalMs?: number | undefined;
}

/**
 * Decides when to exchange: at 50 % ± 10 % of the lifetime (10-60 % after a pod's first success
 * or its first after failures; never later than 20 min before expiry, nor 30 s before the serve
 * cut-off, when the lifetime allows; see refresh-policy.ts), with full-jitter backoff after
 * transient failures and a long wait after permanent ones. Times are planned on the wall clock
 * and checked at every wake-up (at most {@link WAKE_INTERVAL_MS} apart). Only one exchange is ever in flight (one pending promise,
 * like smithy's memoize). It never touches credentials except to store new ones: expiry is the
 * store's business, so old credentials stay in service exactly until they stop being servable.
 *
 * Emits 'outcome' after every attempt.
 */
export class RefreshScheduler<T extends AttemptSuccess> extends EventEmitter<{
  outcome: [RefreshOutcome<T>];
  /** The wall clock moved `jumpMs` more than the monotonic clock (negative: backwards). */
  clockJump: [{ jumpMs: number }];
}> {
  readonly #options: RefreshSchedulerOptions<T>;
  #inFlight: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #nextAttemptAt: number | undefined;
  #consecutiveFailures = 0;
  #succeededOnce = false;
  /** The last attempt failed for a reason retrying cannot fix. */
  #blocked = false;
  /** The token file changed while an attempt was in flight. */
  #tokenChangedInFlight = false;
  #stopped = false;
  /** Aborts the exchange in flight on stop(), so SIGTERM does not wait out an STS timeout (item 5). */
  #abort: AbortController | undefined;
  /** Wall and monotonic time at the last wake-up or plan, to notice wall-clock jumps. */
  #lastWall = 0;
  #lastMonotonic = 0;

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

  /** Stops scheduling and aborts an exchange in flight. Held credentials stay in the store. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer();
    this.#abort?.abort();
    await this.#inFlight;
  }

  async #run(): Promise<void> {
    const { attempt, store, clock, random } = this.#options;
    const startedAt = clock.now();
    this.#tokenChangedInFlight = false;
    const abort = new AbortController();
    this.#abort = abort;
    let result: T;
    try {
      result = await attempt(abort.signal);
    } catch (error) {
      // Aborted by stop(): not a failure of STS, nothing to record or plan.
      if (this.#stopped) return;
      this.#onFailure(toSidecarError(error), startedAt);
      return;
    } finally {
      this.#abort = undefined;
    }
    store.set(result.credentials, result.storeClockAheadMs);
    // A first success, or the first after failures: likely shared with many pods (a rollout, the
    // end of an STS outage), so draw the next refresh from the wider window.
    const spread = this.#consecutiveFailures > 0 || !this.#succeededOnce;
    this.#succeededOnce = true;
    this.#consecutiveFailures = 0;
    this.#blocked = false;
    const finishedAt = clock.now();
    const { maxRefreshIntervalMs, maxLifetimeMs } = this.#options;
    // Plan on the expiry as the store's clock sees it, and never beyond what we asked for.
    let expiresAt = store.effectiveExpiry() ?? result.credentials.expiration.getTime();
    if (maxLifetimeMs !== undefined) expiresAt = Math.min(expiresAt, finishedAt + maxLifetimeMs);
    const byLifetime = refreshAt(finishedAt, expiresAt, random, spread);
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
    const { clock } = this.#options;
    this.#lastWall = clock.now();
    this.#lastMonotonic = clock.monotonicNow();
    this.#arm();
  }

  /** One timer slice: until the plan, or a wake-up interval, whichever is sooner. */
  #arm(): void {
    const { clock, wakeIntervalMs = WAKE_INTERVAL_MS } = this.#options;
    const delay = Math.min((this.#nextAttemptAt ?? 0) - clock.now(), wakeIntervalMs);
    this.#timer = clock.setTimer(() => {
      this.#timer = undefined;
      this.#wake();
    }, delay);
  }

  /**
   * Refresh now when the plan is due by the wall clock, when the wall clock jumped (a suspend,
   * an NTP step: the expiry maths of the last plan no longer hold, and a fresh exchange
   * re-measures the store's clock), or when the last exchange succeeded but its credentials are
   * no longer servable. Otherwise sleep another slice.
   */
  #wake(): void {
    if (this.#stopped || this.#nextAttemptAt === undefined) return;
    const { clock, store } = this.#options;
    const wall = clock.now();
    const monotonic = clock.monotonicNow();
    const jumpMs = wall - this.#lastWall - (monotonic - this.#lastMonotonic);
    this.#lastWall = wall;
    this.#lastMonotonic = monotonic;
    const jumped = Math.abs(jumpMs) > CLOCK_JUMP_TOLERANCE_MS;
    if (jumped) this.emit('clockJump', { jumpMs });
    const lapsed = this.#consecutiveFailures === 0 && store.servable() === undefined;
    // 1 ms of slack: a timer can fire a fraction of a ms before the wall-clock instant it aimed at.
    if (wall + 1 >= this.#nextAttemptAt || jumped || lapsed) void this.refreshNow();
    else this.#arm();
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#nextAttemptAt = undefined;
  }
}

/**
 * Anything unexpected from an attempt is a bug: INTERNAL_ERROR (never an STS code, whose alert
 * and runbook point at the store), retried softly. The cause is kept for the log line.
 */
function toSidecarError(error: unknown): SidecarError {
  if (isSidecarError(error)) return error;
  // Only the error's type: an unexpected message could carry anything, secrets included.
  const kind = error instanceof Error ? error.name : typeof error;
  return new SidecarError('INTERNAL_ERROR', `unexpected failure during exchange (${kind})`, {
    cause: error,
  });
}
