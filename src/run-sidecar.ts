import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadSidecarConfig, type SidecarConfig } from './config/sidecar-config.ts';
import type { Logger } from './log.ts';
import { SidecarMetrics } from './metrics.ts';
import { generateAuthToken, readAuthTokenFile, writeAuthTokenFile } from './server/auth-token.ts';
import { createCredentialsServer } from './server/credentials-server.ts';
import { closeGracefully, listenOrFail } from './server/http-lifecycle.ts';
import { createOpsServer } from './server/ops-server.ts';
import { runSubcommand } from './run-subcommand.ts';
import { Sidecar } from './sidecar.ts';
import { sleep } from './timers.ts';
import { TokenWatcher } from './token/token-watcher.ts';

/** Listeners get this long to finish requests in progress after the grace period. */
const CLOSE_DEADLINE_MS = 2_000;

/** A running sidecar: both listeners bound, the engine started. */
export interface RunningSidecar {
  readonly credentialsAddress: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly sidecar: Sidecar;
  /** SIGTERM behaviour: stop refreshing, serve for the grace period, close listeners. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Brings the sidecar up in order: auth token, listeners (the endpoint answers 503 and /readyz
 * fails until the first exchange), then the engine. Throws a fatal SidecarError when a file
 * or port is unusable.
 */
export async function startSidecarApp(config: SidecarConfig, logger: Logger): Promise<RunningSidecar> {
  const log = logger.child({ component: 'server' });
  const metrics = new SidecarMetrics();
  const sidecar = new Sidecar({ config, logger, metrics });

  // Whatever has started so far, undone in reverse if a later step fails: a failed start must
  // end the process fast instead of leaving a watcher or a bound listener keeping it alive
  // (issue #13, item 3).
  const started: Array<() => Promise<unknown>> = [];
  try {
    return await bringUp();
  } catch (error) {
    for (const undo of started.reverse()) await undo().catch(() => undefined);
    throw error;
  }

  async function bringUp(): Promise<RunningSidecar> {
    let authToken: Buffer;
    let authWatcher: TokenWatcher | undefined;
    if (config.authTokenSource === 'generate') {
      const token = generateAuthToken();
      await writeAuthTokenFile(config.authTokenFile, token);
      authToken = Buffer.from(token);
    } else {
      authToken = Buffer.from(await readAuthTokenFile(config.authTokenFile));
      // SDKs re-read the file per request, so a rotated token must be honoured at once.
      const watcher = new TokenWatcher({ tokenFile: config.authTokenFile, pollIntervalMs: 1_000 });
      authWatcher = watcher;
      watcher.on('change', () => {
        readAuthTokenFile(config.authTokenFile).then(
          (token) => {
            authToken = Buffer.from(token);
            log.info({ event: 'auth_token_reloaded' }, 'endpoint auth token reloaded');
          },
          (error: unknown) =>
            log.error({ event: 'auth_token_reload_failed', err: error }, 'kept the previous auth token'),
        );
      });
      started.push(() => watcher.close());
      await watcher.start();
    }

    const credentialsServer = createCredentialsServer({
      store: sidecar.store,
      metrics,
      path: config.credentialsPath,
      authToken: () => authToken,
    });
    const opsServer = createOpsServer({ store: sidecar.store, metrics });
    for (const [name, server] of [
      ['credentials', credentialsServer],
      ['ops', opsServer],
    ] as const) {
      // After the bind, a server error (EMFILE on accept…) is logged, not fatal: the listener
      // keeps serving the connections it has.
      server.on('error', (error) =>
        log.error({ event: 'listener_error', listener: name, err: error }, 'listener error'),
      );
      started.push(() => closeGracefully(server, 0));
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
    return running(credentialsServer, opsServer, credentialsAddress, opsAddress, authWatcher);
  }

  function running(
    credentialsServer: Server,
    opsServer: Server,
    credentialsAddress: AddressInfo,
    opsAddress: AddressInfo,
    authWatcher: TokenWatcher | undefined,
  ): RunningSidecar {
    return {
      credentialsAddress,
      opsAddress,
      sidecar,
      async shutdown(reason: string) {
        log.info({ event: 'stop', reason, graceMs: config.shutdownGraceMs }, 'stopping: no more refreshes');
        // Aborts an exchange in flight: a hung STS must not eat the pod's termination grace (item 5).
        await sidecar.stop();
        await authWatcher?.close();
        // Legacy (non-native) sidecars can be stopped before the app is done; keep serving what
        // is still valid for the grace period. Expired credentials stay unservable meanwhile.
        if (config.shutdownGraceMs > 0) await sleep(config.shutdownGraceMs);
        const [creds, ops] = await Promise.all([
          closeGracefully(credentialsServer, CLOSE_DEADLINE_MS),
          closeGracefully(opsServer, CLOSE_DEADLINE_MS),
        ]);
        log.info({ event: 'stopped', forcedClose: creds.forced || ops.forced }, 'stopped');
      },
    };
  }
}

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/**
 * The `sidecar` subcommand (run-subcommand.ts): a bad configuration exits 2 with every problem
 * listed and no stack trace, and a failing STS never stops the process (the scheduler retries),
 * so there is no crash loop.
 */
export function runSidecar(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand(
    {
      name: 'sts-sidecar',
      helpHint: 'Run sts-sidecar --help for every option.',
      load: loadSidecarConfig,
      start: startSidecarApp,
    },
    argv,
    env,
  );
}
