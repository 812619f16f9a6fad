import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { destroyConnections } from './connection-cap.ts';
import { SidecarError } from './errors.ts';
import { setSafeTimeout } from './timers.ts';

/** Starts listening; resolves with the bound address, rejects with the listen error (EADDRINUSE…). */
export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  // Only for the bind: a listener left behind would swallow the first error the server emits
  // later (issue #13, item 9). Callers attach their own 'error' handler for after.
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
  return server.address() as AddressInfo;
}

export interface CloseResult {
  /** Connections still open at the deadline were destroyed. */
  readonly forced: boolean;
}

/**
 * Closes gracefully: stop accepting, let requests in progress finish and idle keep-alive
 * connections go, then destroy whatever is still open at the deadline.
 */
export async function closeGracefully(server: Server, deadlineMs: number): Promise<CloseResult> {
  if (!server.listening) return { forced: false };
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  let forced = false;
  const timer = setSafeTimeout(() => {
    forced = true;
    destroyConnections(server);
  }, deadlineMs);
  await closed;
  clearTimeout(timer);
  return { forced };
}

/**
 * {@link listen}, with a bind failure turned into a fatal LISTEN_FAILED that names the flags to
 * change (`--<which>-port`, `--<which>-host`); both subcommands have these.
 */
export async function listenOrFail(
  server: Server,
  host: string,
  port: number,
  which: 'listen' | 'ops',
): Promise<AddressInfo> {
  try {
    return await listen(server, host, port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(
      'LISTEN_FAILED',
      `cannot listen on ${host}:${port} (${code}). Change --${which}-port or --${which}-host.`,
      { cause: error },
    );
  }
}
