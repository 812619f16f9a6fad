import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { SidecarError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { ReloadableSecret } from '../shared/reloadable-secret.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A PEM certificate (chain) and its key, as `tls.createSecureContext` takes them. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads both files and checks they form a key pair. @throws SidecarError WEBHOOK_TLS_INVALID */
export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
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

/** A TLS pair that follows rotations, as {@link watchTlsPair} returns it. */
export type ReloadableTlsPair = ReloadableSecret<TlsPair>;

/**
 * The webhook's certificate, re-read when cert-manager rotates the secret (both files are
 * watched: the secret volume swaps a `..data` symlink). A pair that does not match, e.g. the
 * cert written before the key by a non-atomic writer, is refused and the old certificate stays
 * in use until the next change. Reloads are counted and logged here; the caller applies a new
 * pair with `server.setSecureContext()` on 'reloaded'. start() rejects with WEBHOOK_TLS_INVALID.
 */
export function watchTlsPair(
  files: TlsFiles,
  options: { logger: Logger; metrics: WebhookMetrics; pollIntervalMs?: number | undefined },
): ReloadableTlsPair {
  const log = options.logger.child({ component: 'tls' });
  const pair = new ReloadableSecret({
    files: [files.certFile, files.keyFile],
    read: () => readTlsPair(files),
    pollIntervalMs: options.pollIntervalMs,
  });
  pair.on('reloaded', () => {
    options.metrics.tlsReloads.inc({ result: 'success' });
    log.info({ event: 'tls_reloaded' }, 'certificate reloaded');
  });
  pair.on('failed', (error) => {
    options.metrics.tlsReloads.inc({ result: 'failure' });
    log.warn({ event: 'tls_reload_failed', err: error }, 'kept the previous certificate');
  });
  return pair;
}
