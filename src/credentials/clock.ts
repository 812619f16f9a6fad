import { performance } from 'node:perf_hooks';
import { setSafeTimeout } from '../shared/timers.ts';

/** Opaque handle of a scheduled callback. */
export type TimerHandle = { readonly __timer: unique symbol } | ReturnType<typeof setTimeout>;

/**
 * Time as the scheduler sees it. Injected so tests can run hours of refresh cycles on a
 * virtual clock while the STS calls themselves stay real.
 *
 * Two clocks, on purpose: expiries are wall-clock instants (STS states them so), while timers
 * run on a monotonic clock that a suspend/resume or an NTP step does not move. The scheduler
 * compares the two on every wake-up to notice a wall-clock jump (issue #13, item 4).
 */
export interface Clock {
  /** Wall clock, ms since the epoch. */
  now(): number;
  /** Monotonic ms from an arbitrary origin; only differences mean anything. */
  monotonicNow(): number;
  /** Calls back after `delayMs` of monotonic time (capped at the Node maximum). */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  setTimer: (callback, delayMs) => setSafeTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
