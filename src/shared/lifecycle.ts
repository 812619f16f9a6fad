/**
 * The start/stop pattern every subcommand follows, so a new one is born with it:
 * - start-up pushes an undo step for everything it opens (watchers, listeners); when a later step
 *   fails, {@link StartupUndo.unwind} runs them in reverse, so a failed start ends the process
 *   fast instead of leaving a watcher or a bound listener keeping it alive (issue #13, item 3);
 * - shutdown is wrapped in {@link idempotent}: a second SIGTERM, or a test's cleanup after the
 *   signal, waits for the same shutdown instead of running it twice.
 */

/** Undo steps of a start-up in progress. */
export class StartupUndo {
  readonly #steps: Array<() => Promise<unknown>> = [];

  /** Registers how to undo a step that has just succeeded. */
  push(undo: () => Promise<unknown>): void {
    this.#steps.push(undo);
  }

  /**
   * Runs `bringUp` with a fresh StartupUndo; when it throws, unwinds what it had started and
   * rethrows. The one try/unwind every subcommand's start uses.
   */
  static async attempt<T>(bringUp: (undo: StartupUndo) => Promise<T>): Promise<T> {
    const undo = new StartupUndo();
    try {
      return await bringUp(undo);
    } catch (error) {
      await undo.unwind();
      throw error;
    }
  }

  /** Runs every undo step, last first; their own failures are ignored (the start already failed). */
  async unwind(): Promise<void> {
    for (const undo of this.#steps.reverse()) await undo().catch(() => undefined);
    this.#steps.length = 0;
  }
}

/** `stop` as a function that runs once; later calls return the first call's promise. */
export function idempotent<Args extends unknown[]>(
  stop: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  let running: Promise<void> | undefined;
  return (...args) => (running ??= stop(...args));
}
