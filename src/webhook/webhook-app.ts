import type { AddressInfo } from 'node:net';
import { loadWebhookConfig, type WebhookConfig } from '../config/webhook-config.ts';
import { createServiceAccountApi, type ServiceAccountApi } from '../kube/kube-client.ts';
import { ServiceAccountCache } from './service-account-cache.ts';
import type { Logger } from '../shared/log.ts';
import { closeGracefully, listenOrFail } from '../shared/http-lifecycle.ts';
import { idempotent, StartupUndo } from '../shared/lifecycle.ts';
import { createOpsServer } from '../shared/ops-server.ts';
import type { RunningSubcommand, SubcommandSpec } from '../shared/subcommand.ts';
import { sleep } from '../shared/timers.ts';
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
  const undo = new StartupUndo();
  try {
    return await bringUp();
  } catch (error) {
    await undo.unwind();
    throw error;
  }

  async function bringUp(): Promise<RunningWebhook> {
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
    undo.push(() => closeGracefully(admission, 0));
    undo.push(() => closeGracefully(ops, 0));
    const admissionAddress = await listenOrFail(admission, config.listenHost, config.listenPort, 'listen');
    const opsAddress = await listenOrFail(ops, config.opsHost, config.opsPort, 'ops');
    for (const [name, server] of [
      ['admission', admission],
      ['ops', ops],
    ] as const)
      server.on('error', (error) =>
        logger.error({ event: 'listener_error', listener: name, err: error }, 'listener error'),
      );
    logger.info(
      {
        event: 'listening',
        component: 'webhook',
        admissionPort: admissionAddress.port,
        opsPort: opsAddress.port,
      },
      'webhook listening',
    );
    return {
      admissionAddress,
      opsAddress,
      tls,
      metrics,
      shutdown: idempotent(async (reason: string) => {
        logger.info({ event: 'stop', reason }, 'stopping webhook');
        // Drain first: the endpoints controller and kube-proxy take a moment to stop routing to
        // a terminating pod. Admission requests that reach a closed port would, under
        // failurePolicy Ignore, admit pods without the sidecar; so keep answering, unready.
        if (config.drainMs > 0) {
          draining = true;
          logger.info({ event: 'draining', drainMs: config.drainMs }, 'draining: /readyz is 503');
          await sleep(config.drainMs);
        }
        await Promise.all([
          closeGracefully(admission, config.shutdownGraceMs),
          closeGracefully(ops, config.shutdownGraceMs),
          tls.close(),
          cache.stop(),
        ]);
        logger.info({ event: 'stopped' }, 'stopped');
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
