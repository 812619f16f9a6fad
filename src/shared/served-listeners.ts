import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { closeGracefully, listenOrFail } from './http-lifecycle.ts';
import { idempotent, type StartupUndo } from './lifecycle.ts';
import type { Logger } from './log.ts';
import { sleep } from './timers.ts';

/**
 * The listener pair of a served component (the webhook's admission server, the issuer's
 * documents) and its ops server, bound and stopped the same way by each: the rules live here.
 */
export interface ServedListeners {
  /** Name in logs of the served listener, e.g. `admission`. */
  readonly name: string;
  readonly served: Server;
  readonly ops: Server;
}

/**
 * Binds the served listener (--listen-host/port), then ops (--ops-host/port); a bind failure is
 * a fatal LISTEN_FAILED naming the flags, and a later start-up failure closes both (`undo`).
 * Later listener errors are logged, never thrown.
 */
export async function bindServedListeners(
  listeners: ServedListeners,
  at: { listenHost: string; listenPort: number; opsHost: string; opsPort: number },
  logger: Logger,
  undo: StartupUndo,
): Promise<{ served: AddressInfo; ops: AddressInfo }> {
  undo.push(() => closeGracefully(listeners.served, 0));
  undo.push(() => closeGracefully(listeners.ops, 0));
  const served = await listenOrFail(listeners.served, at.listenHost, at.listenPort, 'listen');
  const ops = await listenOrFail(listeners.ops, at.opsHost, at.opsPort, 'ops');
  for (const [name, server] of [
    [listeners.name, listeners.served],
    ['ops', listeners.ops],
  ] as const)
    server.on('error', (error) =>
      logger.error({ event: 'listener_error', listener: name, err: error }, 'listener error'),
    );
  return { served, ops };
}

/** Options of {@link drainingShutdown}. */
export interface DrainingShutdownOptions {
  readonly listeners: ServedListeners;
  /** What stops, for the log line, e.g. `webhook`. */
  readonly component: string;
  readonly drainMs: number;
  readonly shutdownGraceMs: number;
  /** Turns /readyz to 503 (the caller's readiness reads it). */
  readonly startDraining: () => void;
  /** Everything else to stop alongside the listeners (watchers, caches, refreshers). */
  readonly alsoStop: ReadonlyArray<() => Promise<unknown>>;
  readonly logger: Logger;
}

/**
 * SIGTERM for a component behind a Service: first keep answering, unready, for `drainMs`
 * (endpoints and kube-proxy take a moment to stop routing to a terminating pod, and a request
 * that meets a closed port fails: an admission under failurePolicy Ignore admits a pod without
 * the sidecar, a store's JWKS fetch refuses a token), then close both listeners within the grace
 * and stop the rest. Idempotent.
 */
export function drainingShutdown(o: DrainingShutdownOptions): (reason: string) => Promise<void> {
  return idempotent(async (reason: string) => {
    o.logger.info({ event: 'stop', reason }, `stopping ${o.component}`);
    if (o.drainMs > 0) {
      o.startDraining();
      o.logger.info({ event: 'draining', drainMs: o.drainMs }, 'draining: /readyz is 503');
      await sleep(o.drainMs);
    }
    await Promise.all([
      closeGracefully(o.listeners.served, o.shutdownGraceMs),
      closeGracefully(o.listeners.ops, o.shutdownGraceMs),
      ...o.alsoStop.map((stop) => stop()),
    ]);
    o.logger.info({ event: 'stopped' }, 'stopped');
  });
}
