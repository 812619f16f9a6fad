import type { AddressInfo } from 'node:net';
import { loadWebhookConfig, type WebhookConfig } from './config/webhook-config.ts';
import { createServiceAccountApi, type ServiceAccountApi } from './kube/kube-client.ts';
import { ServiceAccountCache } from './kube/service-account-cache.ts';
import type { Logger } from './log.ts';
import { runSubcommand } from './run-subcommand.ts';
import { closeGracefully, listenOrFail } from './server/http-lifecycle.ts';
import { sleep } from './timers.ts';
import { createAdmissionServer } from './webhook/admission-server.ts';
import { mutatePod } from './webhook/mutator.ts';
import { readTlsPair, TlsReloader } from './webhook/tls-reloader.ts';
import { WebhookMetrics } from './webhook/webhook-metrics.ts';
import { createWebhookOpsServer } from './webhook/webhook-ops-server.ts';

export interface RunningWebhook {
  readonly admissionAddress: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly tls: TlsReloader;
  readonly metrics: WebhookMetrics;
  shutdown(reason: string): Promise<void>;
}

export interface WebhookDeps {
  /** Tests pass an API built on a fake; default: client-node from config.kubeconfig. */
  serviceAccountApi?: ServiceAccountApi;
  /** Poll interval of the TLS file watchers, ms. */
  tlsPollIntervalMs?: number;
}

/** Brings the webhook up: TLS pair (fatal if bad), ServiceAccount cache, both listeners. */
export async function startWebhookApp(
  config: WebhookConfig,
  logger: Logger,
  deps: WebhookDeps = {},
): Promise<RunningWebhook> {
  const metrics = new WebhookMetrics();
  const tlsPair = await readTlsPair({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile });
  const api = deps.serviceAccountApi ?? createServiceAccountApi({ kubeconfig: config.kubeconfig });
  const cache = new ServiceAccountCache({
    api,
    graceMs: config.serviceAccountLookupGraceMs,
    metrics,
    logger,
  });
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
  const tls = new TlsReloader(
    admission,
    { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
    { logger, metrics, pollIntervalMs: deps.tlsPollIntervalMs },
  );
  await tls.start();
  let draining = false;
  let stopping: Promise<void> | undefined;
  const ops = createWebhookOpsServer({ metrics, ready: () => admission.listening && !draining });
  let admissionAddress: AddressInfo;
  let opsAddress: AddressInfo;
  try {
    admissionAddress = await listenOrFail(admission, config.listenHost, config.listenPort, 'listen');
    opsAddress = await listenOrFail(ops, config.opsHost, config.opsPort, 'ops');
  } catch (error) {
    // Undo what started, so the process ends at once with exit 2 instead of idling as a
    // stuck container until the startup probe gives up (issue #13, item 3).
    await Promise.all([closeGracefully(admission, 0), closeGracefully(ops, 0), tls.close(), cache.stop()]);
    throw error;
  }
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
    shutdown(reason) {
      // Idempotent: a second SIGTERM (or a test's cleanup) waits for the same shutdown.
      stopping ??= stop(reason);
      return stopping;
    },
  };

  async function stop(reason: string): Promise<void> {
    logger.info({ event: 'stop', reason }, 'stopping webhook');
    // Drain first: the endpoints controller and kube-proxy take a moment to stop routing to a
    // terminating pod. Admission requests that reach a closed port would, under failurePolicy
    // Ignore, admit pods without the sidecar; so keep answering, unready, for drainMs.
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
  }
}

/** The `webhook` subcommand (run-subcommand.ts): bad config or TLS pair → exit 2. */
export function runWebhook(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand(
    {
      name: 'sts-sidecar webhook',
      helpHint: 'Run sts-sidecar webhook --help.',
      load: loadWebhookConfig,
      start: (config, logger) => startWebhookApp(config, logger),
    },
    argv,
    env,
  );
}
