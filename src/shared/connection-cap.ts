import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

export interface ConnectionCapOptions {
  /** Open connections allowed at once. */
  max: number;
  /** Called for every connection closed to make room. */
  onEvict: () => void;
  /**
   * True when the server's request handler writes its whole answer before it returns and
   * reports it with {@link ConnectionCap.answered} (the credentials endpoint answers from
   * memory). No request is then ever in progress when a connection arrives, so the cap adds no
   * per-request listener (profiled on the endpoint's keep-alive path: the listener, a WeakSet
   * and a 'close' handler per request were about 1 % of its CPU). Default false: requests are
   * followed through 'request' and the response's 'close'.
   */
  answersInline?: boolean;
}

/** What a capped server reports; see {@link capConnections}. */
export interface ConnectionCap {
  /** Records the status of the answer just written on `socket` (the request's socket). */
  answered(socket: Socket, status: number): void;
}

/**
 * Eviction order of idle connections, lowest first:
 * - REFUSED: its last answer was a 4xx (a wrong token, a bad path…), a client we refused;
 * - UNANSWERED: no answer yet (just connected, or still sending its headers);
 * - SERVED: its last answer was not a 4xx, a client we serve (an SDK's keep-alive socket).
 */
const REFUSED = 0;
const UNANSWERED = 1;
const SERVED = 2;
type Standing = typeof REFUSED | typeof UNANSWERED | typeof SERVED;

/**
 * Keeps at most `max` connections open. When a new one would pass the cap, an idle one (no
 * request in progress) is closed to make room, in this order:
 *  1. the oldest whose last answer was a 4xx (auth failures and other refusals),
 *  2. the oldest that has had no answer yet,
 *  3. the oldest other idle one;
 * only when every connection is mid-request is the new one refused. So a flood of bad-token
 * connections evicts itself, and a good client's keep-alive socket, idle between two fetches,
 * survives it (the abuse bench reset 9 of 11 775 good fetches when the oldest idle went first).
 * Not `server.maxConnections`: that refuses the newcomer, so a local client holding idle
 * sockets would lock out every good client, where evicting the idle keeps them served and
 * memory bounded (issue #13, item 9: 10 000 idle connections took RSS from 66 to 287 MiB).
 */
export function capConnections(
  server: HttpServer | HttpsServer,
  options: ConnectionCapOptions,
): ConnectionCap {
  // Insertion order is age order (Map.set on a present key keeps its place).
  const open = new Map<Socket, Standing>();
  tracked.set(server, open);
  const busy = new WeakSet<Socket>();
  const cap: ConnectionCap = {
    answered(socket, status) {
      const tcp = tcpSocketOf(socket);
      if (open.has(tcp)) open.set(tcp, status >= 400 && status < 500 ? REFUSED : SERVED);
    },
  };
  server.on('connection', (socket: Socket) => {
    open.set(socket, UNANSWERED);
    socket.once('close', () => open.delete(socket));
    if (open.size <= options.max) return;
    const victim = pickVictim(open, busy, socket) ?? socket;
    open.delete(victim);
    victim.destroy();
    options.onEvict();
  });
  if (!options.answersInline)
    server.on(
      'request',
      (req: { socket: Socket }, res: { statusCode: number; once(e: 'close', fn: () => void): unknown }) => {
        const socket = tcpSocketOf(req.socket);
        busy.add(socket);
        res.once('close', () => {
          busy.delete(socket);
          cap.answered(socket, res.statusCode);
        });
      },
    );
  return cap;
}

/** The first idle connection of the lowest standing, oldest first; never `newcomer`. */
function pickVictim(
  open: Map<Socket, Standing>,
  busy: WeakSet<Socket>,
  newcomer: Socket,
): Socket | undefined {
  const firstOf: (Socket | undefined)[] = [undefined, undefined, undefined];
  for (const [socket, standing] of open) {
    if (socket === newcomer || busy.has(socket) || firstOf[standing] !== undefined) continue;
    if (standing === REFUSED) return socket;
    firstOf[standing] = socket;
  }
  return firstOf[UNANSWERED] ?? firstOf[SERVED];
}

/** Every capped server's open TCP connections, for {@link destroyConnections}. */
const tracked = new WeakMap<HttpServer | HttpsServer, Map<Socket, Standing>>();

/**
 * Destroys every TCP connection a capped server holds. `closeAllConnections()` reaches only
 * what the HTTP layer has seen: on HTTPS, a connection still in its TLS handshake (or one that
 * never starts it) is invisible to it and would hold `server.close()` open until the TLS
 * handshake timeout (120 s by default).
 */
export function destroyConnections(server: HttpServer | HttpsServer): void {
  server.closeAllConnections();
  for (const socket of tracked.get(server)?.keys() ?? []) socket.destroy();
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
