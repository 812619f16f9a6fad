// The calls one real S3 client made, as it reports them (test/helpers/s3-clients.ts starts the
// clients; each prints one JSON line per call, the protocol of test/clients/*).

/** One S3 call as a client reported it. */
export interface S3Call {
  client: string;
  op: string;
  ok: boolean;
  /** The access key the request was signed with (from its Authorization header). */
  accessKeyId: string | null;
  error?: string;
}

/** One client process (or, for the CLI, one series of them) doing S3 calls. */
export class S3Session {
  readonly calls: S3Call[] = [];
  /** What the client said about itself at the end: version line and credential source. */
  identity: { version?: string; credentialSource?: string | null } = {};
  /** All calls, once the client ended; rejects when it crashed or made no call. */
  readonly done: Promise<S3Call[]>;
  readonly client: string;
  readonly #waiters: Array<(c: S3Call) => void> = [];
  #ended = false;

  /** `drive` runs the client, reporting each call through {@link push} or {@link line}. */
  constructor(client: string, drive: (session: S3Session) => Promise<void>) {
    this.client = client;
    this.done = drive(this).then(
      () => this.#end(),
      (error: unknown) => this.#end(error),
    );
    // Handled where it is awaited (S3CallTally.add); a test that fails earlier must not also
    // report an unhandled rejection.
    this.done.catch(() => {});
  }

  /** The distinct access keys the calls were signed with, in order of first use. */
  keysUsed(): string[] {
    return [...new Set(this.calls.map((c) => c.accessKeyId).filter((k) => k !== null))];
  }

  /** `<client>: N S3 calls, M failed, signed with <key> -> <key>` */
  summary(): string {
    const failed = this.calls.filter((c) => !c.ok).length;
    return `${this.client}: ${this.calls.length} S3 calls, ${failed} failed, signed with ${this.keysUsed().join(' -> ') || 'no key'}`;
  }

  /** Resolves with the next call this client makes (rejects if it ends first). */
  nextCall(): Promise<S3Call> {
    if (this.#ended) return Promise.reject(new Error(`${this.client} already ended`));
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      this.done.then(
        () => reject(new Error(`${this.client} ended before another S3 call`)),
        (error: unknown) => reject(error as Error),
      );
    });
  }

  push(call: Omit<S3Call, 'client'>): void {
    const c = { client: this.client, ...call };
    this.calls.push(c);
    for (const resolve of this.#waiters.splice(0)) resolve(c);
  }

  /** Reads one stdout line of the JSON-lines protocol shared by test/clients/*. */
  line(text: string): void {
    if (!text.startsWith('{')) return;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed.op === 'string') this.push(parsed as unknown as Omit<S3Call, 'client'>);
    else if (typeof parsed.client === 'string')
      this.identity = {
        version: String(parsed.version),
        credentialSource: parsed.credentialSource as string,
      };
  }

  #end(error?: unknown): S3Call[] {
    this.#ended = true;
    if (error) throw error;
    if (this.calls.length === 0) throw new Error(`${this.client} made no S3 call`);
    return this.calls;
  }
}
