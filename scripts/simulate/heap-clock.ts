import type { Clock, TimerHandle } from '../../src/credentials/clock.ts';

interface Entry {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
  /** The callback settles a promise: let its continuations run before the next timer. */
  settles: boolean;
}

/**
 * A virtual clock for thousands of schedulers: timers in a binary heap, so a fleet's millions of
 * timer events cost O(log n) each (test/helpers/virtual-clock.ts is linear, fine for one engine).
 * Wall and monotonic time are the same here: the simulation has no clock jumps.
 */
export class HeapClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: Entry[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonicNow(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    return this.#push(callback, delayMs, false) as unknown as TimerHandle;
  }

  /** Resolves after `delayMs` of virtual time (an STS round trip). */
  delay(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.#push(resolve, delayMs, true));
  }

  clearTimer(handle: TimerHandle): void {
    (handle as unknown as Entry).cancelled = true;
  }

  /** Runs every timer due up to `until`, in order, letting promise continuations settle. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.at > until) break;
      this.#pop();
      if (top.cancelled) continue;
      this.#now = Math.max(this.#now, top.at);
      top.callback();
      if (top.settles) await new Promise((resolve) => setImmediate(resolve));
    }
    this.#now = Math.max(this.#now, until);
  }

  #push(callback: () => void, delayMs: number, settles: boolean): Entry {
    const entry: Entry = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
      settles,
    };
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
    return entry;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
