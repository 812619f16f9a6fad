import { EventEmitter } from 'node:events';
import { DEFAULT_POLL_INTERVAL_MS, FileWatcher } from './file-watcher.ts';

/** Options for {@link ReloadableSecret}. */
export interface ReloadableSecretOptions<T> {
  /** Files the value is read from; a change to any of them triggers a reload. */
  files: readonly string[];
  /** Reads and checks the value; rejects (with a SidecarError) when it is unusable. */
  read: () => Promise<T>;
  /** Poll interval of the file watchers, ms; default {@link DEFAULT_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number | undefined;
}

/** Events of {@link ReloadableSecret}; payloads are for the owner, never for logs. */
export type ReloadableSecretEvents<T> = {
  /** A new value was read after a file changed, and is now current. */
  reloaded: [value: T];
  /** A reload failed; the previous value stays current. */
  failed: [error: unknown];
};

/**
 * A secret read from mounted files (the endpoint auth token, the webhook's TLS pair) that follows
 * rotations: read once at start, where a failure is fatal, then re-read whenever a
 * {@link FileWatcher} sees new content. A bad new value (a half-written pair, an empty token) is
 * refused and the previous one stays in use until the next change, so a rotation can never take
 * away a working secret.
 */
export class ReloadableSecret<T> extends EventEmitter<ReloadableSecretEvents<T>> {
  readonly #read: () => Promise<T>;
  readonly #watchers: FileWatcher[];
  #current: { value: T } | undefined;

  constructor(options: ReloadableSecretOptions<T>) {
    super();
    this.#read = options.read;
    this.#watchers = options.files.map(
      (file) => new FileWatcher({ file, pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS }),
    );
    for (const w of this.#watchers) w.on('change', () => void this.reload());
  }

  /** The value in use. Throws before a successful start() (a bug in the caller). */
  get current(): T {
    if (this.#current === undefined) throw new Error('ReloadableSecret read before start()');
    return this.#current.value;
  }

  /** Reads the value (rejects as `read` does), then starts watching; resolves with the value. */
  async start(): Promise<T> {
    this.#current = { value: await this.#read() };
    await Promise.all(this.#watchers.map((w) => w.start()));
    return this.#current.value;
  }

  /** Re-reads now; resolves true when the new value is in use. Never rejects. */
  async reload(): Promise<boolean> {
    try {
      const value = await this.#read();
      // Listeners apply the value (setSecureContext); one that throws makes this a failure.
      this.emit('reloaded', value);
      this.#current = { value };
      return true;
    } catch (error) {
      this.emit('failed', error);
      return false;
    }
  }

  /** Stops watching; the current value stays readable. */
  async close(): Promise<void> {
    await Promise.all(this.#watchers.map((w) => w.close()));
  }
}
