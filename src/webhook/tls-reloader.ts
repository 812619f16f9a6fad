import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import { SidecarError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { TokenWatcher } from '../token/token-watcher.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Reads both files and checks they form a key pair. @throws SidecarError WEBHOOK_TLS_INVALID */
export async function readTlsPair(files: TlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(
      'WEBHOOK_TLS_INVALID',
      `cannot read the TLS files ${files.certFile} / ${files.keyFile} (${code}); mount the webhook's certificate secret.`,
      { cause: error },
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new SidecarError(
      'WEBHOOK_TLS_INVALID',
      `${files.certFile} and ${files.keyFile} are not a matching PEM certificate and key.`,
      { cause: error },
    );
  }
  return { cert, key };
}

export type TlsReloaderEvents = { reloaded: []; failed: [error: SidecarError] };

/**
 * Swaps the server's certificate when cert-manager rotates the secret. Both files are watched
 * with the kubelet-aware TokenWatcher (directory events + poll: the secret volume swaps a
 * `..data` symlink). A pair that does not match, e.g. the cert written before the key by a
 * non-atomic writer, is refused and the old certificate stays in use until the next change.
 */
export class TlsReloader extends EventEmitter<TlsReloaderEvents> {
  readonly #server: Server;
  readonly #files: TlsFiles;
  readonly #watchers: TokenWatcher[];
  readonly #log: Logger;
  readonly #metrics: WebhookMetrics;

  constructor(
    server: Server,
    files: TlsFiles,
    options: { logger: Logger; metrics: WebhookMetrics; pollIntervalMs?: number },
  ) {
    super();
    this.#server = server;
    this.#files = files;
    this.#log = options.logger.child({ component: 'tls' });
    this.#metrics = options.metrics;
    this.#watchers = [files.certFile, files.keyFile].map(
      (tokenFile) => new TokenWatcher({ tokenFile, pollIntervalMs: options.pollIntervalMs ?? 10_000 }),
    );
    for (const w of this.#watchers) w.on('change', () => void this.reload());
  }

  async start(): Promise<void> {
    await Promise.all(this.#watchers.map((w) => w.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.#watchers.map((w) => w.close()));
  }

  /** Re-reads both files now; resolves true when the new pair is in use. Never rejects. */
  async reload(): Promise<boolean> {
    try {
      this.#server.setSecureContext(await readTlsPair(this.#files));
    } catch (error) {
      const e =
        error instanceof SidecarError
          ? error
          : new SidecarError('WEBHOOK_TLS_INVALID', 'TLS reload failed', { cause: error });
      this.#metrics.tlsReloads.inc({ result: 'failure' });
      this.#log.warn({ event: 'tls_reload_failed', err: e }, 'kept the previous certificate');
      this.emit('failed', e);
      return false;
    }
    this.#metrics.tlsReloads.inc({ result: 'success' });
    this.#log.info({ event: 'tls_reloaded' }, 'certificate reloaded');
    this.emit('reloaded');
    return true;
  }
}
