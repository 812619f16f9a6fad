import type { AddressInfo } from 'node:net';
import { type IssuerConfig, loadIssuerConfig } from '../config/issuer-config.ts';
import { type Clock, systemClock } from '../credentials/clock.ts';
import { createIssuerApi, type IssuerApi } from '../kube/issuer-api.ts';
import { StartupUndo } from '../shared/lifecycle.ts';
import type { Logger } from '../shared/log.ts';
import { bindServedListeners, drainingShutdown } from '../shared/served-listeners.ts';
import { createOpsServer } from '../shared/ops-server.ts';
import type { RunningSubcommand, SubcommandSpec } from '../shared/subcommand.ts';
import { type ReloadableTlsPair, watchTlsPair } from '../shared/tls-pair.ts';
import { loadCertificateAuthority } from './ca-key.ts';
import { DocumentRefresher } from './document-refresher.ts';
import { IssuerMetrics } from './issuer-metrics.ts';
import { createIssuerServer } from './issuer-server.ts';

export interface RunningIssuer extends RunningSubcommand {
  readonly issuerAddress: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly tls: ReloadableTlsPair;
  readonly refresher: DocumentRefresher;
  readonly metrics: IssuerMetrics;
}

export interface IssuerDeps {
  /** Tests pass an API built on a fake; default: client-node from config.kubeconfig. */
  api?: IssuerApi;
  /** Default: the system clock. */
  clock?: Clock;
  /** Poll interval of the TLS file watchers, ms. */
  tlsPollIntervalMs?: number;
}

/**
 * Brings the publisher up: CA key and TLS pair (fatal if bad), both listeners, then the first
 * refresh. An unreachable API server is not fatal: the pod stays unready and keeps retrying, so a
 * control-plane hiccup during a rollout never crash-loops it. On a failed start whatever had
 * started is undone (shared/lifecycle.ts), and the process exits 2.
 */
export async function startIssuerApp(
  config: IssuerConfig,
  logger: Logger,
  deps: IssuerDeps = {},
): Promise<RunningIssuer> {
  const metrics = new IssuerMetrics();
  return StartupUndo.attempt(bringUp);

  async function bringUp(undo: StartupUndo): Promise<RunningIssuer> {
    const ca = await loadCertificateAuthority(config.caKeyFile);
    const tls = watchTlsPair(
      { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
      {
        owner: { invalidCode: 'ISSUER_TLS_INVALID', mountHint: "mount the issuer's TLS Secret" },
        logger,
        onReload: (result) => metrics.tlsReloads.inc({ result }),
        pollIntervalMs: deps.tlsPollIntervalMs,
      },
    );
    undo.push(() => tls.close());
    const tlsPair = await tls.start();
    const api =
      deps.api ??
      createIssuerApi({ kubeconfig: config.kubeconfig, timeoutMs: config.apiTimeoutMs, probe: config.probe });
    const refresher = new DocumentRefresher({
      api,
      ca,
      clock: deps.clock ?? systemClock,
      intervalMs: config.refreshIntervalMs,
      maxStaleMs: config.maxStaleMs,
      x5c: config.x5c,
      expectedIssuer: config.issuerUrl,
      metrics,
      logger,
    });
    undo.push(() => refresher.stop());
    const server = createIssuerServer({
      tls: tlsPair,
      documents: () => refresher.current,
      cacheMaxAgeSeconds: config.refreshIntervalMs / 1000,
      metrics,
    });
    tls.on('reloaded', (pair) => server.setSecureContext(pair));
    let draining = false;
    const ops = createOpsServer({
      registry: metrics.registry,
      ready: () => !draining && refresher.readiness().ready,
      notReadyText: 'not ready: see the log (no documents, stale documents, issuer mismatch or draining)',
      onEvict: () => metrics.connectionsDropped.inc({ listener: 'ops' }),
    });
    const listeners = { name: 'issuer', served: server, ops };
    const bound = await bindServedListeners(listeners, config, logger, undo);
    logger.info(
      {
        event: 'listening',
        component: 'issuer',
        issuerPort: bound.served.port,
        opsPort: bound.ops.port,
        ca: ca.commonName,
      },
      'issuer publisher listening',
    );
    // Not awaited: the first load may take as long as the API server does; /readyz tells.
    void refresher.start();
    return {
      issuerAddress: bound.served,
      opsAddress: bound.ops,
      tls,
      refresher,
      metrics,
      shutdown: drainingShutdown({
        listeners,
        component: 'issuer publisher',
        drainMs: config.drainMs,
        shutdownGraceMs: config.shutdownGraceMs,
        startDraining: () => {
          draining = true;
        },
        alsoStop: [() => tls.close(), () => refresher.stop()],
        logger,
      }),
    };
  }
}

/** The `issuer` subcommand (src/run-subcommand.ts runs it): bad config, CA key or TLS pair → exit 2. */
export const ISSUER_SUBCOMMAND: SubcommandSpec<IssuerConfig> = {
  name: 'sts-sidecar issuer',
  helpHint: 'Run sts-sidecar issuer --help.',
  load: (argv, env) => loadIssuerConfig(argv, env),
  start: (config, logger) => startIssuerApp(config, logger),
};
