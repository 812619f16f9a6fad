import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClientRun, runClient } from './client-process.ts';
import { type ClientProbe, probeAwsCli, probeBoto3, probeGoS3, probeJsS3 } from './client-probes.ts';
import { S3Session } from './s3-session.ts';

// The real S3 clients of the e2e suites, one owner. Each runs as its own process with only the
// env an app container gets, and does CreateBucket, then rounds of PutObject / GetObject /
// ListObjectsV2: one round, or rounds until a stop file exists (a long-lived app across a token
// rotation and a credential refresh). Every S3 call is reported with the access key it was
// signed with, so a test can check that only keys the sidecar got from the store were used.

const CLIENTS = new URL('../clients/', import.meta.url).pathname;

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
