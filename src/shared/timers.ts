/**
 * Every timer in src/ goes through here. Node clamps a delay above 2^31 - 1 ms (~24.8 days) to
 * 1 ms, with only a TimeoutOverflowWarning: a refresh planned six months ahead then fires at once,
 * forever (issue #13, item 1). https://nodejs.org/docs/v24.0.0/api/timers.html#settimeoutcallback-delay-args
 * A test (test/unit/timers.test.ts) checks that no other module calls setTimeout/setInterval.
 */

/** Largest delay Node honours as given. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A delay Node will honour: NaN and negatives become 0, anything above the maximum becomes the
 * maximum. Callers that need longer waits re-check on wake-up (the refresh scheduler does).
 */
export function safeDelayMs(delayMs: number): number {
  if (!(delayMs > 0)) return 0;
  return Math.min(delayMs, MAX_TIMER_DELAY_MS);
}

/** `setTimeout` with {@link safeDelayMs}. */
export function setSafeTimeout(callback: () => void, delayMs: number): NodeJS.Timeout {
  return setTimeout(callback, safeDelayMs(delayMs));
}

/** `setInterval` with {@link safeDelayMs} (at least 1 ms, as Node does for 0). */
export function setSafeInterval(callback: () => void, intervalMs: number): NodeJS.Timeout {
  return setInterval(callback, Math.max(1, safeDelayMs(intervalMs)));
}

/**
 * Resolves after `delayMs` (capped), or at once when `signal` aborts: a wait that shutdown can
 * cut short instead of sitting it out.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setSafeTimeout(done, delayMs);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
