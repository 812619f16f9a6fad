import type { Clock, TimerHandle } from '../../src/credentials/clock.ts';

interface PendingTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A clock that moves only when the test says so. Timers fire in due order as time is advanced,
 * each with `now()` set to its due time. Real I/O (STS calls) still runs in real time, so a
 * test can cover hours of refresh cycles in milliseconds without sleeping.
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(start: number = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, delayMs), callback };
    this.#timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== (handle as unknown as number));
  }

  /** Due time of the earliest pending timer. */
  nextTimerAt(): number | undefined {
    return this.#timers.reduce<number | undefined>(
      (min, t) => (min === undefined || t.at < min ? t.at : min),
      undefined,
    );
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward to `at`, firing every timer due on the way, in order. */
  advanceTo(at: number): void {
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= at).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = Math.max(this.#now, at);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
}
