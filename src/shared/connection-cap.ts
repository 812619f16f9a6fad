import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

export interface ConnectionCapOptions {
  /** Open connections allowed at once. */
  max: number;
  /** Called for every connection closed to make room. */
  onEvict: () => void;
}

/**
 * Keeps at most `max` connections open. When a new one would pass the cap, the oldest idle
 * one (no request in progress: a keep-alive socket between requests, or one still sending its
 * headers) is closed to make room; only when every connection is mid-request is the new one
 * refused. Not `server.maxConnections`: that refuses the newcomer, so a local client holding
 * idle sockets would lock out every good client, where evicting the idle keeps them served and
 * memory bounded (issue #13, item 9: 10 000 idle connections took RSS from 66 to 287 MiB).
 */
export function capConnections(server: HttpServer | HttpsServer, options: ConnectionCapOptions): void {
  // Insertion order is age order: the first idle entry is the oldest.
  const open = new Set<Socket>();
  tracked.set(server, open);
  const busy = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size <= options.max) return;
    let victim: Socket = socket;
    for (const candidate of open)
      if (candidate !== socket && !busy.has(candidate)) {
        victim = candidate;
        break;
      }
    open.delete(victim);
    victim.destroy();
    options.onEvict();
  });
  server.on('request', (req: { socket: Socket }, res: { once(event: 'close', fn: () => void): unknown }) => {
    const socket = tcpSocketOf(req.socket);
    busy.add(socket);
    res.once('close', () => busy.delete(socket));
  });
}

/** Every capped server's open TCP connections, for {@link destroyConnections}. */
const tracked = new WeakMap<HttpServer | HttpsServer, Set<Socket>>();

/**
 * Destroys every TCP connection a capped server holds. `closeAllConnections()` reaches only
 * what the HTTP layer has seen: on HTTPS, a connection still in its TLS handshake (or one that
 * never starts it) is invisible to it and would hold `server.close()` open until the TLS
 * handshake timeout (120 s by default).
 */
export function destroyConnections(server: HttpServer | HttpsServer): void {
  server.closeAllConnections();
  for (const socket of tracked.get(server) ?? []) socket.destroy();
}

/**
 * The TCP socket under a request. The cap counts TCP connections ('connection' events), which
 * also covers a TLS handshake that never finishes; on HTTPS a request's socket is the TLSSocket
 * wrapping that TCP socket, which Node keeps as `_parent` (lib/_tls_wrap.js, v24.21.0). Should
 * that internal field go, requests are tracked on the TLSSocket and the cap still bounds the
 * connections, only without sparing the busy ones.
 */
function tcpSocketOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
}
