import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { netnsHttp } from './netns-http.ts';

/** Where `.ci/peers/minio.sh install` puts the binary. */
const CACHE_BIN = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'sts-sidecar',
  'bin',
  'minio',
);
/** Readiness deadline: a cold start (fresh data dir, IAM init) takes ~1-3 s here. */
const START_DEADLINE_MS = 30_000;
/** Poll interval for process readiness (no event to await: MinIO is another process). */
const POLL_MS = 50;

/**
 * How MinIO maps a web-identity token to a policy (minio/minio docs/sts/web-identity.md):
 * - `role-policy`: `MINIO_IDENTITY_OPENID_ROLE_POLICY`; the client must send the RoleArn MinIO
 *   derives from the client ID ({@link MinioServer.roleArn});
 * - `claim`: the token's `policy` claim names the policies; the client sends no RoleArn.
 */
export type MinioMode = 'role-policy' | 'claim';

/** Options for {@link MinioServer.start}. */
export interface MinioServerOptions {
  /** Path of the binary; default {@link findMinioBinary}. */
  binary?: string;
  /** The OIDC issuer's base URL; MinIO reads `<issuer>/.well-known/openid-configuration` at start-up. */
  issuer: string;
  /** `MINIO_IDENTITY_OPENID_CLIENT_ID`: the token's `aud` (or `azp`) must contain it. */
  clientId: string;
  mode: MinioMode;
  /** Policy for role-policy mode (built-in `readwrite` by default). */
  rolePolicy?: string;
  /**
   * Run inside a network namespace (the Kubernetes e2e cluster's, so its pods reach MinIO) at a
   * fixed address there, instead of on a free 127.0.0.1 port. The console takes `port + 1`.
   */
  network?: { netns: string; host: string; port: number };
  /** A CA certificate MinIO trusts for the issuer's HTTPS (copied into its certs/CAs). */
  caFile?: string;
}

/**
 * The MinIO binary: `$STS_SIDECAR_MINIO_BIN`, else the cache path `.ci/peers/minio.sh install`
 * uses; undefined when neither is an executable file.
 */
export function findMinioBinary(): string | undefined {
  for (const candidate of [process.env.STS_SIDECAR_MINIO_BIN, CACHE_BIN]) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there, or not executable: try the next one
    }
  }
  return undefined;
}

/** A free loopback port: bind :0, read it, release it (MinIO has no "listen on 0 and tell me"). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The role ARN MinIO prints as "IAM Roles:" for a role-policy provider: the resource ID is
 * base64url(SHA-1(client ID)) and the region part is empty (minio/minio
 * internal/config/identity/openid/openid.go, LookupConfig).
 */
export function minioRoleArn(clientId: string): string {
  return `arn:minio:iam:::role/${createHash('sha1').update(clientId).digest('base64url')}`;
}

/**
 * A real MinIO server as a child process on 127.0.0.1 (S3 API and console), with a fresh data
 * dir, root credentials and an OpenID provider pointing at the test issuer. Stopped by its PID.
 */
export class MinioServer {
  readonly url: string;
  readonly mode: MinioMode;
  readonly rootUser: string;
  readonly rootPassword: string;
  /** The RoleArn to send in role-policy mode; undefined in claim mode. */
  readonly roleArn: string | undefined;
  /** `<module>@<version> (minio --version first line)`. */
  readonly version: string;
  /** Everything MinIO wrote to stdout and stderr. */
  output = '';
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<number | null>;
  readonly #netns: string | undefined;
  #exitCode: number | null | undefined;

  private constructor(parts: {
    child: ChildProcess;
    dir: string;
    url: string;
    mode: MinioMode;
    rootUser: string;
    rootPassword: string;
    roleArn: string | undefined;
    version: string;
    netns: string | undefined;
  }) {
    this.#netns = parts.netns;
    this.#child = parts.child;
    this.#dir = parts.dir;
    this.url = parts.url;
    this.mode = parts.mode;
    this.rootUser = parts.rootUser;
    this.rootPassword = parts.rootPassword;
    this.roleArn = parts.roleArn;
    this.version = parts.version;
    const collect = (d: Buffer) => {
      this.output += d.toString('utf8');
    };
    this.#child.stdout?.on('data', collect);
    this.#child.stderr?.on('data', collect);
    this.#exited = new Promise((resolve) =>
      this.#child.on('exit', (code) => {
        this.#exitCode = code;
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Starts MinIO and resolves once its S3 API is live and its IAM (and so STS) is initialised. */
  static async start(opts: MinioServerOptions): Promise<MinioServer> {
    const binary = opts.binary ?? findMinioBinary();
    if (!binary) throw new Error('MinIO not installed: run bash .ci/peers/minio.sh install');
    const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-minio-'));
    const { network } = opts;
    const host = network?.host ?? '127.0.0.1';
    const [port, consolePort] = network
      ? [network.port, network.port + 1]
      : [await freePort(), await freePort()];
    if (opts.caFile !== undefined) {
      await mkdir(join(dir, 'certs', 'CAs'), { recursive: true });
      await copyFile(opts.caFile, join(dir, 'certs', 'CAs', 'issuer-ca.crt'));
    }
    const rootUser = 'sts-sidecar-root';
    const rootPassword = randomBytes(18).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      MINIO_ROOT_USER: rootUser,
      MINIO_ROOT_PASSWORD: rootPassword,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_IDENTITY_OPENID_CONFIG_URL: `${opts.issuer}/.well-known/openid-configuration`,
      MINIO_IDENTITY_OPENID_CLIENT_ID: opts.clientId,
      ...(opts.mode === 'role-policy'
        ? { MINIO_IDENTITY_OPENID_ROLE_POLICY: opts.rolePolicy ?? 'readwrite' }
        : { MINIO_IDENTITY_OPENID_CLAIM_NAME: 'policy' }),
    };
    const args = [
      'server',
      '--address',
      `${host}:${port}`,
      '--console-address',
      `${host}:${consolePort}`,
      '--certs-dir',
      join(dir, 'certs'),
      join(dir, 'data'),
    ];
    // nsenter execs MinIO, so the child's PID is MinIO's own.
    const child = network
      ? spawn('nsenter', [`--net=${network.netns}`, '--', binary, ...args], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new MinioServer({
      child,
      dir,
      url: `http://${host}:${port}`,
      netns: network?.netns,
      mode: opts.mode,
      rootUser,
      rootPassword,
      roleArn: opts.mode === 'role-policy' ? minioRoleArn(opts.clientId) : undefined,
      version: minioVersion(binary),
    });
    try {
      await server.#waitReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** POSTs an STS form to MinIO as-is; resolves with the status and raw body. */
  async postSts(params: Record<string, string>): Promise<{ status: number; body: string }> {
    return this.#request('/', new URLSearchParams(params).toString());
  }

  /**
   * One HTTP request to MinIO: with fetch, or, when MinIO lives in a network namespace the test
   * process is not in, with curl inside that namespace. A POST when `form` is given.
   */
  async #request(path: string, form?: string): Promise<{ status: number; body: string }> {
    if (this.#netns === undefined) {
      const res = await fetch(`${this.url}${path}`, {
        method: form === undefined ? 'GET' : 'POST',
        ...(form === undefined
          ? {}
          : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }),
      });
      return { status: res.status, body: await res.text() };
    }
    return netnsHttp(this.#netns, `${this.url}${path}`, form === undefined ? {} : { form });
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the data dir. */
  async stop(): Promise<void> {
    if (this.#exitCode === undefined && this.#child.pid !== undefined) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    const fail = (what: string) =>
      new Error(`MinIO ${what} (exit ${String(this.#exitCode)}); its output:\n${this.output}`);
    // 1. The S3 API answers.
    for (;;) {
      if (this.#exitCode !== undefined) throw fail('exited during start-up');
      if (Date.now() > deadline) throw fail(`was not live within ${START_DEADLINE_MS} ms`);
      const live = await this.#request('/minio/health/live').then(
        (r) => r.status === 200,
        () => false,
      );
      if (live) break;
      await sleep(POLL_MS);
    }
    // 2. IAM is initialised: until then STS answers 503 STSIAMNotInitialized (cmd/sts-errors.go).
    // An empty token fails right after that check (MinIO then refetches the issuer's JWKS once).
    for (;;) {
      if (this.#exitCode !== undefined) throw fail('exited during start-up');
      if (Date.now() > deadline) throw fail(`IAM was not initialised within ${START_DEADLINE_MS} ms`);
      const probe = await this.postSts({
        Action: 'AssumeRoleWithWebIdentity',
        Version: '2011-06-15',
        WebIdentityToken: '',
      }).catch(() => undefined);
      if (probe && !probe.body.includes('STSIAMNotInitialized')) return;
      await sleep(POLL_MS);
    }
  }
}

/** `<module>@<version> (<minio --version first line>)`. */
function minioVersion(binary: string): string {
  const versionFile = join(binary, '..', 'minio.version');
  const module = existsSync(versionFile)
    ? readFileSync(versionFile, 'utf8').trim()
    : 'unknown module version';
  const line = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
  return `${module} (${line})`;
}
