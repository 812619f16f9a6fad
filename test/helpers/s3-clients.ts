import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClientRun, runClient } from './client-process.ts';
import { type ClientProbe, probeAwsCli, probeBoto3, probeGoS3, probeJsS3 } from './client-probes.ts';

// The real S3 clients of the e2e suites, one owner. Each runs as its own process with only the
// env an app container gets, and does CreateBucket, then rounds of PutObject / GetObject /
// ListObjectsV2: one round, or rounds until a stop file exists (a long-lived app across a token
// rotation and a credential refresh). Every S3 call is reported with the access key it was
// signed with, so a test can check that only keys the sidecar got from the store were used.

const CLIENTS = new URL('../clients/', import.meta.url).pathname;

/** One S3 call as a client reported it. */
export interface S3Call {
  client: string;
  op: string;
  ok: boolean;
  /** The access key the request was signed with (from its Authorization header). */
  accessKeyId: string | null;
  error?: string;
}

/** Where the clients work: the store, the app env (sidecar's FULL_URI + TOKEN_FILE), a scratch dir. */
export interface S3Target {
  endpoint: string;
  env: NodeJS.ProcessEnv;
  dir: string;
}

/**
 * The client env: the sidecar's `clientEnv` plus path-style addressing (the stores listen on an
 * IP) in an aws config file, the region, and no SDK retries, so every failure is counted.
 */
export async function s3Target(
  endpoint: string,
  sidecarEnv: NodeJS.ProcessEnv,
  dir: string,
): Promise<S3Target> {
  const configFile = join(dir, 'aws-config');
  await writeFile(configFile, '[default]\ns3 =\n  addressing_style = path\n');
  const env = {
    ...sidecarEnv,
    AWS_CONFIG_FILE: configFile,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
  };
  return { endpoint, env, dir };
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

/** A real client the suites drive. */
export interface S3ClientRunner {
  /** Short name, e.g. `boto3`. */
  readonly name: string;
  /** Availability and version (probed once, at import). */
  readonly probe: ClientProbe;
  /** The credential source the client reports when it used the sidecar (undefined: not reported). */
  readonly expectedSource: string | undefined;
  /** CreateBucket, then rounds until `stopFile` exists (one round without it). */
  start(target: S3Target, bucket: string, stopFile?: string): S3Session;
}

/** A client speaking the JSON-lines protocol of test/clients/* in one process. */
function processRunner(
  name: string,
  probe: ClientProbe,
  expectedSource: string,
  command: (probe: ClientProbe) => [string, string[]],
): S3ClientRunner {
  return {
    name,
    probe,
    expectedSource,
    start(target, bucket, stopFile) {
      const [cmd, args] = command(probe);
      return new S3Session(name, async (session) => {
        const r = await runClient(
          cmd,
          [...args, target.endpoint, bucket, ...(stopFile ? [stopFile] : [])],
          target.env,
          { timeoutMs: 240_000, onLine: (l) => session.line(l) },
        );
        if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${r.stderr.slice(-2000)}`);
      });
    },
  };
}

export const BOTO3 = processRunner('boto3', probeBoto3(), 'container-role', () => [
  'python3',
  [join(CLIENTS, 'boto3_s3.py')],
]);

// fromHttp (the JS provider that reads the token file) marks what it resolves CREDENTIALS_HTTP.
export const JS_S3 = processRunner('aws-sdk-js-v3', probeJsS3(), 'CREDENTIALS_HTTP', () => [
  process.execPath,
  [join(CLIENTS, 'js-s3.mjs')],
]);

export const GO_S3 = processRunner('aws-sdk-go-v2', probeGoS3(), 'CredentialsEndpointProvider', (p) => [
  (p as { path: string }).path,
  [],
]);

/** The aws CLI: one process per S3 call, as scripts use it; `--debug` logs the signed header. */
export const AWS_CLI: S3ClientRunner = {
  name: 'aws CLI',
  probe: probeAwsCli(),
  expectedSource: undefined,
  start(target, bucket, stopFile) {
    /** One `aws s3api` process; `check` says what is wrong with a successful answer, if anything. */
    const s3api = async (
      session: S3Session,
      op: string,
      args: string[],
      check: (r: ClientRun) => Promise<string | undefined> | string | undefined = () => undefined,
    ) => {
      const r = await runClient(
        'aws',
        ['--endpoint-url', target.endpoint, '--debug', 's3api', ...args],
        target.env,
      );
      const problem = r.code !== 0 ? r.stderr.trim().split('\n').slice(-3).join(' ') : await check(r);
      session.push({
        op,
        ok: !problem,
        accessKeyId: /Credential=([^/\s]+)\//.exec(r.stderr)?.[1] ?? null,
        ...(problem ? { error: problem.slice(0, 500) } : {}),
      });
    };
    return new S3Session('aws CLI', async (session) => {
      session.identity = { version: this.probe.version };
      await s3api(session, 'CreateBucket', ['create-bucket', '--bucket', bucket]);
      for (let round = 0; ; round++) {
        const key = `cli-${round}.txt`;
        const body = `written by the aws CLI, round ${round}`;
        const file = join(target.dir, `${bucket}-${key}`);
        await writeFile(file, body);
        await s3api(session, 'PutObject', ['put-object', '--bucket', bucket, '--key', key, '--body', file]);
        await s3api(
          session,
          'GetObject',
          ['get-object', '--bucket', bucket, '--key', key, `${file}.out`],
          async () => {
            const read = await readFile(`${file}.out`, 'utf8');
            return read === body ? undefined : `read back ${read}`;
          },
        );
        await s3api(session, 'ListObjects', ['list-objects-v2', '--bucket', bucket], (r) =>
          r.stdout.includes(`"${key}"`) ? undefined : `the listing misses ${key}`,
        );
        if (!stopFile || existsSync(stopFile)) break;
      }
    });
  },
};

/** Every client of the e2e suites, in the order they are reported. */
export const S3_CLIENTS: readonly S3ClientRunner[] = [BOTO3, AWS_CLI, JS_S3, GO_S3];
