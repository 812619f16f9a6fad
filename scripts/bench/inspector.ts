// A minimal Chrome DevTools Protocol client for the bench: it asks a child Node process (started
// with --inspect=127.0.0.1:0) to run a full garbage collection and report its heap. That turns
// "memory returns to baseline" into a measurement: heap still in use after a forced GC is
// memory something holds on to, whatever V8's GC heuristics would have done on their own.
// The sidecar itself has no GC hook; only the bench attaches, over loopback.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const LISTENING = /Debugger listening on (ws:\/\/\S+)/;

export interface HeapUsage {
  usedMiB: number;
  totalMiB: number;
}

export class InspectorSession {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`inspector: ${message.error.message}`));
      else pending?.resolve(message.result);
    });
  }

  /** Reads the inspector URL the child prints on stderr at start-up, then connects. */
  static async attach(child: ChildProcess, stderrSoFar = ''): Promise<InspectorSession> {
    let text = stderrSoFar;
    while (!LISTENING.test(text)) {
      const [chunk] = (await once(child.stderr!, 'data')) as [Buffer];
      text += chunk.toString('utf8');
    }
    return InspectorSession.connect(LISTENING.exec(text)![1]!);
  }

  /** Connects to a `ws://` inspector URL (node:inspector `url()` in the child). */
  static async connect(url: string): Promise<InspectorSession> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('inspector: cannot connect')), { once: true });
    });
    return new InspectorSession(socket);
  }

  #call(method: string, params: object = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Full (major, compacting) GC, then the heap V8 still uses. */
  async heapAfterGc(): Promise<HeapUsage> {
    await this.#call('HeapProfiler.collectGarbage');
    const usage = (await this.#call('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
    return { usedMiB: usage.usedSize / 1048576, totalMiB: usage.totalSize / 1048576 };
  }

  /** Detach before the child exits, or Node waits for the debugger to disconnect. */
  async close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    const closed = once(this.#socket as unknown as EventTarget, 'close');
    this.#socket.close();
    await closed;
  }
}
