import type { AddressInfo } from 'node:net';
import { loadWebhookConfig, type WebhookConfig } from '../config/webhook-config.ts';
import { createServiceAccountApi, type ServiceAccountApi } from '../kube/kube-client.ts';
import { ServiceAccountCache } from './service-account-cache.ts';
import type { Logger } from '../shared/log.ts';
import { StartupUndo } from '../shared/lifecycle.ts';
import { bindServedListeners, drainingShutdown } from '../shared/served-listeners.ts';
import { createOpsServer } from '../shared/ops-server.ts';
import type { RunningSubcommand, SubcommandSpec } from '../shared/subcommand.ts';
import { createAdmissionServer } from './admission-server.ts';
import { mutatePod } from './mutator.ts';
import { type ReloadableTlsPair, watchTlsPair } from './tls-reloader.ts';
import { WebhookMetrics } from './webhook-metrics.ts';

export interface RunningWebhook extends RunningSubcommand {
  readonly admissionAddress: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly tls: ReloadableTlsPair;
  readonly metrics: WebhookMetrics;
}

export interface WebhookDeps {
  /** Tests pass an API built on a fake; default: client-node from config.kubeconfig. */
  serviceAccountApi?: ServiceAccountApi;
  /** Poll interval of the TLS file watchers, ms. */
  tlsPollIntervalMs?: number;
}

/**
 * Brings the webhook up: TLS pair (fatal if bad), ServiceAccount cache, both listeners. On a
 * failed start whatever had started is undone (shared/lifecycle.ts), so the process ends at once
 * with exit 2 instead of idling as a stuck container until the startup probe gives up.
 */
export async function startWebhookApp(
  config: WebhookConfig,
  logger: Logger,
  deps: WebhookDeps = {},
): Promise<RunningWebhook> {
  const metrics = new WebhookMetrics();
  return StartupUndo.attempt(bringUp);

  async function bringUp(undo: StartupUndo): Promise<RunningWebhook> {
    const tls = watchTlsPair(
      { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
      { logger, metrics, pollIntervalMs: deps.tlsPollIntervalMs },
    );
    undo.push(() => tls.close());
    const tlsPair = await tls.start();
    const api = deps.serviceAccountApi ?? createServiceAccountApi({ kubeconfig: config.kubeconfig });
    const cache = new ServiceAccountCache({
      api,
      graceMs: config.serviceAccountLookupGraceMs,
      metrics,
      logger,
    });
    undo.push(() => cache.stop());
    await cache.start();
    const admission = createAdmissionServer({
      tls: tlsPair,
      metrics,
      logger,
      mutate: (pod, namespace) =>
        mutatePod(pod, namespace, {
          defaults: config.defaults,
          sidecar: config.sidecar,
          lookupServiceAccount: (ns, name) => cache.lookup(ns, name),
        }),
    });
    tls.on('reloaded', (pair) => admission.setSecureContext(pair));
    let draining = false;
    const ops = createOpsServer({
      registry: metrics.registry,
      ready: () => admission.listening && !draining,
      notReadyText: () =>
        draining
          ? 'Draining after SIGTERM: admission requests are still answered until the drain ends.'
          : 'Starting: the admission listener is not up yet.',
    });
    const listeners = { name: 'admission', served: admission, ops };
    const bound = await bindServedListeners(listeners, config, logger, undo);
    logger.info(
      {
        event: 'listening',
        component: 'webhook',
        admissionPort: bound.served.port,
        opsPort: bound.ops.port,
      },
      'webhook listening',
    );
    return {
      admissionAddress: bound.served,
      opsAddress: bound.ops,
      tls,
      metrics,
      shutdown: drainingShutdown({
        listeners,
        component: 'webhook',
        drainMs: config.drainMs,
        shutdownGraceMs: config.shutdownGraceMs,
        startDraining: () => {
          draining = true;
        },
        alsoStop: [() => tls.close(), () => cache.stop()],
        logger,
      }),
    };
  }
}

/** The `webhook` subcommand (src/run-subcommand.ts runs it): bad config or TLS pair → exit 2. */
export const WEBHOOK_SUBCOMMAND: SubcommandSpec<WebhookConfig> = {
  name: 'sts-sidecar webhook',
  helpHint: 'Run sts-sidecar webhook --help.',
  load: loadWebhookConfig,
  start: (config, logger) => startWebhookApp(config, logger),
};
