import type { Clock, TimerHandle } from '../../src/credentials/clock.ts';

interface PendingTimer {
  id: number;
  /** Due on the monotonic clock. */
  at: number;
  callback: () => void;
}

/**
 * A clock that moves only when the test says so. Timers fire in due order as time is advanced,
 * each with `now()` set to its due time. Real I/O (STS calls) still runs in real time, so a
 * test can cover hours of refresh cycles in milliseconds without sleeping.
 *
 * Like the real thing it has two clocks: timers run on the monotonic one, and
 * {@link jumpWallClock} moves the wall clock alone (a suspend/resume or an NTP step).
 */
export class VirtualClock implements Clock {
  #monotonic = 0;
  /** wall = monotonic + offset */
  #offset: number;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(start: number = Date.now()) {
    this.#offset = start;
  }

  now(): number {
    return this.#monotonic + this.#offset;
  }

  monotonicNow(): number {
    return this.#monotonic;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#monotonic + Math.max(0, delayMs), callback };
    this.#timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== (handle as unknown as number));
  }

  /** Wall-clock due time of the earliest pending timer. */
  nextTimerAt(): number | undefined {
    return this.#timers.reduce<number | undefined>(
      (min, t) => (min === undefined || t.at + this.#offset < min ? t.at + this.#offset : min),
      undefined,
    );
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves the wall clock by `ms` (negative: back) without letting any monotonic time pass. */
  jumpWallClock(ms: number): void {
    this.#offset += ms;
  }

  /** Moves time forward to wall-clock `at`, firing every timer due on the way, in order. */
  advanceTo(at: number): void {
    const target = at - this.#offset;
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#monotonic = Math.max(this.#monotonic, next.at);
      next.callback();
    }
    this.#monotonic = Math.max(this.#monotonic, target);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.now() + ms);
  }
}
