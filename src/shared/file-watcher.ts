import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { fileFingerprint } from './file-fingerprint.ts';
import { setSafeInterval } from './timers.ts';

/** Options for {@link FileWatcher}. */
export interface FileWatcherOptions {
  /** The watched path: a projected token, an auth token, a TLS file. Its directory is watched. */
  file: string;
  /**
   * How often to re-hash the file even without a filesystem event, in ms. Default 10_000.
   * This is the upper bound on noticing a rotation when events are lost or the directory did not
   * exist at start.
   */
  pollIntervalMs?: number;
  /** Watch the directory with chokidar as a wake-up hint. Default true; false = polling only. */
  watchDirectory?: boolean;
  /** A file larger than this has no fingerprint (a wrong mount); default {@link DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
}

/** Events of {@link FileWatcher}. Payloads are SHA-256 fingerprints, never the content. */
export type FileWatcherEvents = {
  /** The content differs from the last content seen (at start() or at the last 'change'). */
  change: [fingerprint: string];
  /** Every re-hash, changed or not; undefined when the file is missing, unreadable or empty. */
  checked: [fingerprint: string | undefined];
};

export const DEFAULT_POLL_INTERVAL_MS = 10_000;
/** Every file we watch is a token, key or certificate of a few KiB; as TokenSource's limit. */
export const DEFAULT_MAX_BYTES = 64 * 1024;

/**
 * Tells when a file mounted from a kubelet volume (projected token, Secret, emptyDir) has new
 * content, so its owner can act early: the scheduler exchanges a rotated token, the TLS reloader
 * swaps a certificate, the auth token is re-read. It only wakes its owner, who reads the file
 * itself (TokenSource.read() still reads the token for every exchange).
 *
 * Why it watches the directory and also polls (measured: docs/design/measurements.md):
 * - A plain fs.watch on the token path goes deaf after the first rotation (1/50): the kubelet
 *   never rewrites `token`, it swaps the `..data` symlink, and the inode being watched is deleted.
 * - chokidar on the directory caught 50/50 in every run, but one rotation yields several events
 *   (here: addDir new ts dir, change `..data`, change `token`, unlinkDir old ts dir). Every event
 *   only triggers a re-hash, and 'change' fires when the hash differs, so a rotation is one 'change'.
 * - The poll covers what events cannot: a directory that does not exist yet, a dropped inotify
 *   event, chokidar errors. Errors are swallowed here on purpose; the file is re-checked next time.
 *
 * start() and close() never reject, and 'error' is never emitted: a missing file or directory
 * and chokidar errors only mean "check again at the next hint or poll". An exception thrown by a
 * listener is dropped. Only the constructor throws, on a non-positive pollIntervalMs (a bug in
 * the caller; config validation reports it to the operator first).
 */
export class FileWatcher extends EventEmitter<FileWatcherEvents> {
  readonly file: string;
  readonly pollIntervalMs: number;
  readonly #watchDirectory: boolean;
  readonly #maxBytes: number;
  #fsWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** null until the baseline is taken in start(); undefined = no readable token seen yet. */
  #last: string | undefined | null = null;
  #running: Promise<void> | undefined;
  #again = false;
  /** Lets close() release a start() still waiting for chokidar's 'ready'. */
  #abortStart: (() => void) | undefined;
  #started = false;
  #closed = false;

  constructor(options: FileWatcherOptions) {
    super();
    this.file = options.file;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isFinite(this.pollIntervalMs) || this.pollIntervalMs <= 0) {
      throw new RangeError(`pollIntervalMs must be a positive number of ms, got ${this.pollIntervalMs}`);
    }
    this.#watchDirectory = options.watchDirectory ?? true;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /**
   * Starts watching and takes the baseline fingerprint. Resolves once chokidar is ready (so a
   * rotation after this is seen) and the baseline is taken; the current content is not a 'change'.
   */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#watchDirectory) await this.#startFsWatcher();
    if (this.#closed) return;
    this.#timer = setSafeInterval(() => this.#wake(), this.pollIntervalMs);
    // The sidecar's servers keep the process alive; a forgotten watcher should not.
    this.#timer.unref();
    this.#wake();
    await this.#running;
  }

  /** Stops watching and polling. No event is emitted after it resolves. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abortStart?.();
    clearInterval(this.#timer);
    const fsWatcher = this.#fsWatcher;
    this.#fsWatcher = undefined;
    await fsWatcher?.close().catch(() => undefined);
    await this.#running;
  }

  async #startFsWatcher(): Promise<void> {
    let fsWatcher: FSWatcher;
    try {
      fsWatcher = watch(dirname(this.file), {
        ignoreInitial: true,
        // The kubelet's layout is flat: `token`, `..data` and `..<ts>` dirs are all direct children.
        depth: 0,
        // Not following links: chokidar then reports the `..data` swap itself as 'change ..data'
        // (it compares link targets) and does not descend into `..<ts>` dirs that are about to be
        // deleted. `token` still gets its own 'change'. Measured: 4 events per rotation, 20/20.
        followSymlinks: false,
      });
    } catch {
      return; // polling still works
    }
    this.#fsWatcher = fsWatcher;
    fsWatcher.on('all', () => this.#wake());
    // E.g. ENOSPC (inotify watch limit) or EACCES: the poll still notices rotations.
    fsWatcher.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      this.#abortStart = resolve;
      fsWatcher.once('ready', resolve);
      // Should chokidar fail before 'ready', start() must not hang the sidecar's start-up.
      fsWatcher.once('error', () => resolve());
    });
    this.#abortStart = undefined;
  }

  /** Schedules a re-hash. Hints that arrive during one collapse into a single re-run after it. */
  #wake(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      do {
        this.#again = false;
        try {
          await this.#check();
        } catch {
          // Only a throwing listener gets here (fileFingerprint never throws). It must not stop
          // the watch or surface as an unhandled rejection; listeners handle their own errors.
        }
      } while (this.#again && !this.#closed);
    } finally {
      // Cleared synchronously after the last `#again` test, so no hint falls in between.
      this.#running = undefined;
    }
  }

  async #check(): Promise<void> {
    const fingerprint = await fileFingerprint(this.file, this.#maxBytes);
    if (this.#closed) return;
    const previous = this.#last;
    // A file that disappeared keeps the last fingerprint, so the same token coming back is no change.
    if (fingerprint !== undefined) this.#last = fingerprint;
    else if (previous === null) this.#last = undefined;
    this.emit('checked', fingerprint);
    if (previous !== null && fingerprint !== undefined && fingerprint !== previous) {
      this.emit('change', fingerprint);
    }
  }
}
