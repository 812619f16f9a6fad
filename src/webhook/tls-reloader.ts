import type { Logger } from '../shared/log.ts';
import {
  type ReloadableTlsPair,
  type TlsFiles,
  type TlsOwner,
  type TlsPair,
  watchTlsPair as watchPair,
} from '../shared/tls-pair.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export type { ReloadableTlsPair, TlsFiles, TlsPair };

/** The webhook's side of shared/tls-pair.ts: its error code and Secret. */
const WEBHOOK_TLS: TlsOwner = {
  invalidCode: 'WEBHOOK_TLS_INVALID',
  mountHint: "mount the webhook's certificate secret",
};

/**
 * The webhook's certificate, re-read when cert-manager rotates the secret (shared/tls-pair.ts);
 * reloads are counted in sts_sidecar_webhook_tls_reloads_total. start() rejects with
 * WEBHOOK_TLS_INVALID.
 */
export function watchTlsPair(
  files: TlsFiles,
  options: { logger: Logger; metrics: WebhookMetrics; pollIntervalMs?: number | undefined },
): ReloadableTlsPair {
  return watchPair(files, {
    owner: WEBHOOK_TLS,
    logger: options.logger,
    onReload: (result) => options.metrics.tlsReloads.inc({ result }),
    pollIntervalMs: options.pollIntervalMs,
  });
}
