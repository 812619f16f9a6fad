import type { Server } from 'node:http';
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
export function capConnections(server: Server, options: ConnectionCapOptions): void {
  // Insertion order is age order: the first idle entry is the oldest.
  const open = new Set<Socket>();
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
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.add(socket);
    res.once('close', () => busy.delete(socket));
  });
}
