import { createSecureContext } from 'node:tls';
import { SidecarError } from './errors.ts';
import type { Logger } from './log.ts';
import { MAX_PEM_FILE_BYTES, readFileAtMost } from './read-bounded-file.ts';
import { ReloadableSecret } from './reloadable-secret.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A PEM certificate (chain) and its key, as `tls.createSecureContext` takes them. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Who serves with the pair: the code of a bad pair and the Secret to mount, for messages. */
export interface TlsOwner {
  /** e.g. WEBHOOK_TLS_INVALID; its retry class is fatal. */
  invalidCode: 'WEBHOOK_TLS_INVALID' | 'ISSUER_TLS_INVALID';
  /** The end of "cannot read …; <mountHint>.", e.g. "mount the webhook's certificate secret". */
  mountHint: string;
}

/** Reads both files and checks they form a key pair. @throws SidecarError `owner.invalidCode` */
export async function readTlsPair(files: TlsFiles, owner: TlsOwner): Promise<TlsPair> {
  let cert: Buffer;
  let key: Buffer;
  try {
    // Bounded: these are re-read on every change of the mount (a wrong mount must not fill the heap).
    [cert, key] = (
      await Promise.all([
        readFileAtMost(files.certFile, MAX_PEM_FILE_BYTES),
        readFileAtMost(files.keyFile, MAX_PEM_FILE_BYTES),
      ])
    ).map((pem) => Buffer.from(pem)) as [Buffer, Buffer];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(
      owner.invalidCode,
      `cannot read the TLS files ${files.certFile} / ${files.keyFile} (${code}); ${owner.mountHint}.`,
      { cause: error },
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new SidecarError(
      owner.invalidCode,
      `${files.certFile} and ${files.keyFile} are not a matching PEM certificate and key.`,
      { cause: error },
    );
  }
  return { cert, key };
}

/** A TLS pair that follows rotations, as {@link watchTlsPair} returns it. */
export type ReloadableTlsPair = ReloadableSecret<TlsPair>;

export interface WatchTlsPairOptions {
  owner: TlsOwner;
  logger: Logger;
  /** Counts a reload by result (the owner's tls_reloads_total). */
  onReload: (result: 'success' | 'failure') => void;
  pollIntervalMs?: number | undefined;
}

/**
 * A serving certificate re-read when its Secret rotates (both files are watched: the secret
 * volume swaps a `..data` symlink). A pair that does not match, e.g. the cert written before the
 * key by a non-atomic writer, is refused and the old certificate stays in use until the next
 * change. Reloads are counted and logged here; the caller applies a new pair with
 * `server.setSecureContext()` on 'reloaded'. start() rejects with `owner.invalidCode`.
 */
export function watchTlsPair(files: TlsFiles, options: WatchTlsPairOptions): ReloadableTlsPair {
  const log = options.logger.child({ component: 'tls' });
  const pair = new ReloadableSecret({
    files: [files.certFile, files.keyFile],
    read: () => readTlsPair(files, options.owner),
    pollIntervalMs: options.pollIntervalMs,
  });
  pair.on('reloaded', () => {
    options.onReload('success');
    log.info({ event: 'tls_reloaded' }, 'certificate reloaded');
  });
  pair.on('failed', (error) => {
    options.onReload('failure');
    log.warn({ event: 'tls_reload_failed', err: error }, 'kept the previous certificate');
  });
  return pair;
}
