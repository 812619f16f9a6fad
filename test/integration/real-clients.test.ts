import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { parseSigV4Authorization, S3RequestRecorder, verifySigV4 } from '../clients/s3-request-recorder.ts';
import { npmPackageVersion, probeAwsCli, probeBoto3 } from '../helpers/client-probes.ts';
import { type ClientRun, runClient } from '../helpers/client-process.ts';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

// Real clients, each in its own process, find the sidecar through the environment an app
// container gets (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
// never AWS_CONTAINER_AUTHORIZATION_TOKEN), and must end up with exactly what the STS issued.

const JS_CLIENT = new URL('../clients/js-resolve.mjs', import.meta.url).pathname;
const BOTO3_CLIENT = new URL('../clients/boto3_resolve.py', import.meta.url).pathname;
/** A client process that takes longer is hung; the slowest path (401 + SDK retries) takes ~4 s. */
const CLIENT_TIMEOUT_MS = 30_000;
/** Per test: a few client processes, or a missing log line that would otherwise hang the run. */
const TEST_TIMEOUT_MS = 60_000;
const timeout = TEST_TIMEOUT_MS;

/** Runs a client with exactly `env` (nothing inherited), collecting its output. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv) =>
  runClient(command, args, env, { timeoutMs: CLIENT_TIMEOUT_MS });

/** What the client scripts in test/clients print (one JSON line). */
interface Resolved {
  ok: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  expiration?: string | null;
  method?: string;
  source?: Record<string, string>;
  name?: string;
  message?: string;
  /** JS fromHttp only, on failure: the endpoint's `Code` and `Message`. */
  code?: string;
  codeMessage?: string;
}

function lastJsonLine(result: ClientRun, who: string): Resolved {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Resolved;
  } catch {
    assert.fail(
      `${who} printed no JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
}

const resolveWithJs = async (env: NodeJS.ProcessEnv) =>
  lastJsonLine(await run(process.execPath, [JS_CLIENT], env), 'aws-sdk-js-v3');
const resolveWithBoto3 = async (env: NodeJS.ProcessEnv) =>
  lastJsonLine(await run('python3', [BOTO3_CLIENT], env), 'boto3');

/** Asserts `got` holds exactly the credentials the fake STS issued last (expiry when given). */
function assertIssued(p: SidecarProcess, got: Resolved, who: string): void {
  const issued = p.sts.issued;
  assert.ok(issued, 'the STS issued credentials');
  assert.equal(got.ok, true, `${who} failed: ${got.name}: ${got.message}`);
  assert.deepEqual(
    { accessKeyId: got.accessKeyId, secretAccessKey: got.secretAccessKey, sessionToken: got.sessionToken },
    {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
    },
    `${who} resolved other credentials than the STS issued`,
  );
  if (got.expiration !== undefined) {
    assert.ok(got.expiration, `${who} resolved no expiry`);
    assert.equal(
      new Date(got.expiration).getTime(),
      issued.expiration.getTime(),
      `${who} expiry ${got.expiration} ≠ issued ${issued.expiration.toISOString()}`,
    );
  }
}

// --- Which clients are here. Skips name the reason; CI installs them (.ci/install-test-clients.sh).

const boto3 = probeBoto3();
const awsCli = probeAwsCli();

// --- One sidecar (generated auth token) serves the clients that only read.

let shared: SidecarProcess;
before(async () => {
  shared = await SidecarProcess.start();
  await shared.ready();
});
after(() => shared?.close());

test(
  'aws-sdk-js-v3 defaultProvider() resolves exactly the issued credentials via fromHttp',
  {
    timeout,
  },
  async (t) => {
    const got = await resolveWithJs(shared.clientEnv());
    assertIssued(shared, got, 'aws-sdk-js-v3');
    // fromHttp (the only JS provider that reads the token file) produced them, not fromContainerMetadata.
    assert.equal(got.source?.CREDENTIALS_HTTP, 'z', `credential source: ${JSON.stringify(got.source)}`);
    t.diagnostic(
      `aws-sdk-js-v3 credential-provider-node ${npmPackageVersion('@aws-sdk/credential-provider-node')}: ${got.accessKeyId}, ${got.expiration}`,
    );
  },
);

test(
  'boto3 default chain resolves exactly the issued credentials and expiry',
  {
    skip: boto3.skip,
    timeout,
  },
  async (t) => {
    const got = await resolveWithBoto3(shared.clientEnv());
    assertIssued(shared, got, 'boto3');
    assert.equal(got.method, 'container-role', 'botocore took them from its ContainerProvider');
    assert.ok(got.expiration, 'botocore exposes the expiry');
    t.diagnostic(`${boto3.version}: ${got.method} ${got.accessKeyId}, ${got.expiration}`);
  },
);

test(
  'aws CLI signs an S3 request with exactly the issued credentials',
  {
    skip: awsCli.skip,
    timeout,
  },
  async (t) => {
    const issued = shared.sts.issued!;
    const recorder = await S3RequestRecorder.start();
    t.after(() => recorder.close());
    // AWS CLI v1 reads the region from AWS_DEFAULT_REGION.
    const env = { ...shared.clientEnv(), AWS_DEFAULT_REGION: 'us-east-1' };

    const listed = await run('aws', ['s3api', 'list-buckets', '--endpoint-url', recorder.url], env);
    assert.equal(listed.code, 0, `aws s3api list-buckets failed:\n${listed.stderr}`);
    assert.equal(recorder.requests.length, 1, 'one signed request reached the S3 stand-in');
    const request = recorder.requests[0]!;
    const auth = parseSigV4Authorization(request.headers.authorization);
    assert.ok(auth, `not a SigV4 Authorization header: ${request.headers.authorization}`);
    assert.equal(auth.accessKeyId, issued.accessKeyId);
    assert.ok(auth.signedHeaders.includes('x-amz-security-token'), 'the session token is signed');
    assert.equal(request.headers['x-amz-security-token'], issued.sessionToken);
    // The secret key never travels; only a signature made with it matches.
    assert.equal(verifySigV4(request, issued.secretAccessKey), true, 'signed with the issued secret key');
    assert.equal(verifySigV4(request, `${issued.secretAccessKey}x`), false, 'the check tells secrets apart');

    // Where the CLI says they came from: botocore's container provider, with the issued key's tail.
    const listing = await run('aws', ['configure', 'list'], env);
    assert.equal(listing.code, 0, listing.stderr);
    const accessKeyRow = listing.stdout.split('\n').find((l) => l.trim().startsWith('access_key'));
    assert.match(accessKeyRow ?? '', new RegExp(`\\*+${issued.accessKeyId.slice(-4)}\\s+container-role`));
    t.diagnostic(`${awsCli.version}\n${accessKeyRow?.trim()}\nsigned ${auth.accessKeyId}/${auth.scope}`);
  },
);

test(
  'aws CLI v2 configure export-credentials prints exactly the issued credentials and expiry',
  {
    skip:
      awsCli.skip ??
      (awsCli.major === 2 ? undefined : `${awsCli.version} has no export-credentials (v2 only)`),
    timeout,
  },
  async (t) => {
    const env = { ...shared.clientEnv(), AWS_DEFAULT_REGION: 'us-east-1' };
    const exported = await run('aws', ['configure', 'export-credentials', '--format', 'process'], env);
    assert.equal(exported.code, 0, exported.stderr);
    const body = JSON.parse(exported.stdout) as Record<string, string>;
    assertIssued(
      shared,
      {
        ok: true,
        accessKeyId: body.AccessKeyId,
        secretAccessKey: body.SecretAccessKey,
        sessionToken: body.SessionToken,
        expiration: body.Expiration ?? null,
      },
      'aws configure export-credentials',
    );
    t.diagnostic(`${awsCli.version}: ${body.AccessKeyId}, ${body.Expiration}`);
  },
);

/** The sidecar's own count of 401 answers, from its /metrics. */
async function unauthorizedCount(p: SidecarProcess): Promise<number> {
  const text = await (await fetch(`${p.opsUrl}/metrics`)).text();
  return Number(/^sts_sidecar_credential_requests_total\{status="401"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

test(
  'a wrong token in the token file gets 401: the JS SDK rejects, the endpoint answers JSON',
  {
    timeout,
  },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'real-clients-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const right = await shared.authToken();
    const wrong = randomBytes(32).toString('hex');
    assert.notEqual(wrong, right);
    const wrongFile = join(dir, 'token');
    await writeFile(wrongFile, wrong);
    const env = { ...shared.clientEnv(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: wrongFile };

    // What an app sees: the whole default chain fails, and the sidecar counted its 401s.
    const before401 = await unauthorizedCount(shared);
    const chain = await resolveWithJs(env);
    assert.equal(chain.ok, false, 'the default chain must not resolve credentials with a wrong token');
    assert.equal(chain.name, 'CredentialsProviderError');
    assert.match(chain.message ?? '', /Could not load credentials from any providers/);
    const refused = (await unauthorizedCount(shared)) - before401;
    assert.ok(refused >= 1, 'the SDK reached the endpoint and was refused');

    // Why: the chain's container provider on its own reports the status and the endpoint's error.
    const http = lastJsonLine(
      await run(process.execPath, [JS_CLIENT, 'http'], env),
      'aws-sdk-js-v3 fromHttp',
    );
    assert.equal(http.ok, false);
    assert.equal(http.message, 'Server responded with status: 401');
    assert.equal(http.code, 'HTTP_UNAUTHORIZED');
    assert.match(http.codeMessage ?? '', /AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE/);
    t.diagnostic(`defaultProvider: ${chain.message} (${refused} requests got 401)`);
    t.diagnostic(`fromHttp: ${http.message}, Code ${http.code}`);

    for (const [what, headers] of [
      ['wrong token', { authorization: wrong }],
      ['no Authorization header', {}],
    ] as const) {
      const res = await fetch(shared.credentialsUrl, { headers });
      assert.equal(res.status, 401, what);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.Code, 'HTTP_UNAUTHORIZED', what);
      assert.equal(typeof body.Message, 'string', what);
      assert.equal(body.AccessKeyId, undefined, what);
    }
    // Control: the same request with the right token is served, so the 401s above were the token.
    const ok = await fetch(shared.credentialsUrl, { headers: { authorization: right } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Record<string, unknown>).AccessKeyId, shared.sts.issued?.accessKeyId);
  },
);

// --- Operator-provided auth token (file mode), rotated while the sidecar runs.

/** Writes like a Secret/emptyDir update: a temporary file, then rename over the old one. */
async function replaceFile(file: string, content: string): Promise<void> {
  await writeFile(`${file}.tmp`, content);
  await rename(`${file}.tmp`, file);
}

async function startFileMode(
  t: TestContext,
  token: string,
): Promise<{ p: SidecarProcess; tokenFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'real-clients-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, token);
  const p = await SidecarProcess.start({
    env: { STS_SIDECAR_AUTH_TOKEN_SOURCE: 'file', STS_SIDECAR_AUTH_TOKEN_FILE: tokenFile },
  });
  t.after(() => p.close());
  await p.ready();
  return { p, tokenFile };
}

test(
  'auth token rotation: after auth_token_reloaded a new SDK process succeeds, the old token gets 401',
  {
    timeout,
  },
  async (t) => {
    const oldToken = randomBytes(32).toString('hex');
    const newToken = randomBytes(32).toString('hex');
    const { p, tokenFile } = await startFileMode(t, oldToken);
    // The app container reads the same file the operator rotates.
    const env = { ...p.clientEnv(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile };
    const status = async (token: string) =>
      (await fetch(p.credentialsUrl, { headers: { authorization: token } })).status;

    assertIssued(p, await resolveWithJs(env), 'aws-sdk-js-v3 before rotation');
    assert.equal(await status(newToken), 401, 'the new token is not accepted before the rotation');

    const reloaded = await p.next(
      (l) => l.event === 'auth_token_reloaded',
      () => replaceFile(tokenFile, newToken),
    );
    assert.equal(JSON.stringify(reloaded).includes(newToken), false, 'the log line does not carry the token');

    assertIssued(p, await resolveWithJs(env), 'aws-sdk-js-v3 after rotation');
    // A second SDK re-reads the file as well (where boto3 is installed; its own test reports the skip).
    if (!boto3.skip) assertIssued(p, await resolveWithBoto3(env), 'boto3 after rotation');
    assert.equal(await status(oldToken), 401, 'the old token is refused after the rotation');
    assert.equal(await status(newToken), 200);
  },
);
