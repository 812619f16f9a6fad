// The NDJSON log of a child process the tests run (sidecar, issuer), one owner: every line as it
// comes, and promises for the line a test waits for. No polling: each line is matched on arrival.

export type LogLine = Record<string, unknown>;

interface Waiter {
  readonly from: number;
  readonly predicate: (l: LogLine) => boolean;
  readonly resolve: (l: LogLine) => void;
}

export class LogLines {
  /** Every line so far, parsed. */
  readonly all: LogLine[] = [];
  readonly #waiters: Waiter[] = [];

  /** Takes one stdout line; blank lines are skipped, anything else must be JSON. */
  push(text: string): void {
    if (!text.trim()) return;
    const line = JSON.parse(text) as LogLine;
    const index = this.all.push(line) - 1;
    for (const w of [...this.#waiters])
      if (index >= w.from && w.predicate(line)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
  }

  /**
   * The first line at index `from` or later (already seen or still to come) that `predicate`
   * accepts; rejects with `why(code)` once `exited` settles without one.
   */
  waitFor(
    predicate: (l: LogLine) => boolean,
    exited: Promise<number | null>,
    why: (code: number | null) => string,
    from = 0,
  ): Promise<LogLine> {
    const seen = this.all.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ from, predicate, resolve });
      void exited.then((code) => reject(new Error(why(code))));
    });
  }
}
