import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSidecarConfig, type SidecarConfig } from '../config/sidecar-config.ts';
import type { Logger } from '../shared/log.ts';
import { SidecarMetrics } from './sidecar-metrics.ts';
import { generateAuthToken, readAuthTokenFile, writeAuthTokenFile } from './auth-token.ts';
import { createCredentialsServer } from './credentials-server.ts';
import { closeGracefully, listenOrFail } from '../shared/http-lifecycle.ts';
import { idempotent, StartupUndo } from '../shared/lifecycle.ts';
import { createOpsServer } from '../shared/ops-server.ts';
import { ReloadableSecret } from '../shared/reloadable-secret.ts';
import type { RunningSubcommand, SubcommandSpec } from '../shared/subcommand.ts';
import { Sidecar } from './sidecar.ts';
import { sleep } from '../shared/timers.ts';

/** Listeners get this long to finish requests in progress after the grace period. */
const CLOSE_DEADLINE_MS = 2_000;
/** How often an operator-provided auth token file is re-checked besides file events. */
const AUTH_TOKEN_POLL_INTERVAL_MS = 1_000;

/** A running sidecar: both listeners bound, the engine started. */
export interface RunningSidecar extends RunningSubcommand {
  readonly credentialsAddress: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly sidecar: Sidecar;
  /** SIGTERM behaviour: stop refreshing, serve for the grace period, close listeners. */
  shutdown(reason: string): Promise<void>;
}

/** The sidecar's ops listener: ready while the store holds servable credentials. */
export function createSidecarOpsServer(sidecar: Pick<Sidecar, 'store' | 'metrics'>): Server {
  return createOpsServer({
    registry: sidecar.metrics.registry,
    ready: () => sidecar.store.servable() !== undefined,
    notReadyText: 'No credentials with at least 60 s left are held; the exchange log lines say why.',
    onEvict: () => sidecar.metrics.connectionsDropped.inc({ listener: 'ops' }),
  });
}

/**
 * Brings the sidecar up in order: auth token, listeners (the endpoint answers 503 and /readyz
 * fails until the first exchange), then the engine. Throws a fatal SidecarError when a file
 * or port is unusable, after undoing whatever had started (shared/lifecycle.ts).
 */
export async function startSidecarApp(config: SidecarConfig, logger: Logger): Promise<RunningSidecar> {
  const log = logger.child({ component: 'server' });
  const metrics = new SidecarMetrics();
  const sidecar = new Sidecar({ config, logger, metrics });
  return StartupUndo.attempt(bringUp);

  async function bringUp(undo: StartupUndo): Promise<RunningSidecar> {
    const authToken = await startAuthToken(undo);
    const credentialsServer = createCredentialsServer({
      store: sidecar.store,
      metrics,
      path: config.credentialsPath,
      authToken: authToken.current,
    });
    const opsServer = createSidecarOpsServer(sidecar);
    for (const [name, server] of [
      ['credentials', credentialsServer],
      ['ops', opsServer],
    ] as const) {
      // After the bind, a server error (EMFILE on accept…) is logged, not fatal: the listener
      // keeps serving the connections it has.
      server.on('error', (error) =>
        log.error({ event: 'listener_error', listener: name, err: error }, 'listener error'),
      );
      undo.push(() => closeGracefully(server, 0));
    }
    const credentialsAddress = await listenOrFail(
      credentialsServer,
      config.listenHost,
      config.listenPort,
      'listen',
    );
    const opsAddress = await listenOrFail(opsServer, config.opsHost, config.opsPort, 'ops');
    if (config.nonLoopbackListen)
      log.warn(
        { event: 'non_loopback_listen', host: config.listenHost },
        'the credentials endpoint listens on a non-loopback address: only the auth token protects it',
      );
    log.info(
      {
        event: 'listening',
        credentialsUrl: `http://${hostForUrl(credentialsAddress)}:${credentialsAddress.port}${config.credentialsPath}`,
        authTokenFile: config.authTokenFile,
        opsUrl: `http://${hostForUrl(opsAddress)}:${opsAddress.port}`,
      },
      'listening',
    );
    // Not awaited: the first exchange may take a while or fail; the listeners already say so.
    void sidecar.start();
    return {
      credentialsAddress,
      opsAddress,
      sidecar,
      shutdown: idempotent(async (reason: string) => {
        log.info({ event: 'stop', reason, graceMs: config.shutdownGraceMs }, 'stopping: no more refreshes');
        // Aborts an exchange in flight: a hung STS must not eat the pod's termination grace (item 5).
        await sidecar.stop();
        await authToken.close();
        // Legacy (non-native) sidecars can be stopped before the app is done; keep serving what
        // is still valid for the grace period. Expired credentials stay unservable meanwhile.
        if (config.shutdownGraceMs > 0) await sleep(config.shutdownGraceMs);
        const [creds, ops] = await Promise.all([
          closeGracefully(credentialsServer, CLOSE_DEADLINE_MS),
          closeGracefully(opsServer, CLOSE_DEADLINE_MS),
        ]);
        log.info({ event: 'stopped', forcedClose: creds.forced || ops.forced }, 'stopped');
      }),
    };
  }

  /**
   * The endpoint auth token: generated and written once, or an operator's file followed through
   * rotations (SDKs re-read the file per request, so a rotated token must be honoured at once).
   */
  async function startAuthToken(
    undo: StartupUndo,
  ): Promise<{ current: () => Buffer; close: () => Promise<void> }> {
    if (config.authTokenSource === 'generate') {
      const token = Buffer.from(generateAuthToken());
      await writeAuthTokenFile(config.authTokenFile, token.toString());
      return { current: () => token, close: async () => undefined };
    }
    const secret = new ReloadableSecret({
      files: [config.authTokenFile],
      read: async () => Buffer.from(await readAuthTokenFile(config.authTokenFile)),
      pollIntervalMs: AUTH_TOKEN_POLL_INTERVAL_MS,
    });
    secret.on('reloaded', () => log.info({ event: 'auth_token_reloaded' }, 'endpoint auth token reloaded'));
    secret.on('failed', (error) =>
      log.error({ event: 'auth_token_reload_failed', err: error }, 'kept the previous auth token'),
    );
    undo.push(() => secret.close());
    await secret.start();
    return { current: () => secret.current, close: () => secret.close() };
  }
}

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/**
 * The `sidecar` subcommand (src/run-subcommand.ts runs it): a bad configuration exits 2 with
 * every problem listed and no stack trace, and a failing STS never stops the process (the
 * scheduler retries), so there is no crash loop.
 */
export const SIDECAR_SUBCOMMAND: SubcommandSpec<SidecarConfig> = {
  name: 'sts-sidecar',
  helpHint: 'Run sts-sidecar --help for every option.',
  load: loadSidecarConfig,
  start: startSidecarApp,
};
