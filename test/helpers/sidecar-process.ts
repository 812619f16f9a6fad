import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeSts, type FakeStsOptions } from '../fakes/fake-sts.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from './kubelet-token-volume.ts';
import { type LogLine, LogLines } from './log-lines.ts';

export const BUNDLE = new URL('../../dist/sts-sidecar.mjs', import.meta.url).pathname;
export const AUDIENCE = 'sts.example.test';
export const ROLE_ARN = 'arn:aws:iam:::role/app';

export type { LogLine } from './log-lines.ts';

export interface SidecarProcessOptions {
  /** Extra or overriding env for the sidecar. */
  env?: NodeJS.ProcessEnv;
  /** Extra options for the fake STS (mode defaults to rgw). */
  sts?: Partial<FakeStsOptions>;
  /** Runs before the sidecar is spawned, e.g. to queue STS faults for its first exchange. */
  beforeSpawn?: (sts: FakeSts) => void;
  /** Node options before the bundle, e.g. `--import` of a clock shim (npm run soak). */
  nodeArgs?: string[];
  /**
   * Kills the child when aborted: pass the test's `t.signal` where a regression would leave the
   * sidecar running before it ever logs `listening` (a failed start that does not exit), so a
   * timed-out test does not keep its file's process alive.
   */
  signal?: AbortSignal;
}

/**
 * The env a user would set for the built sidecar against a fake STS: free loopback ports, no
 * shutdown grace, and the pod identity the fake issuer's tokens carry (shop/cart-0). The RoleArn
 * is sent in rgw mode only, as MinIO's claim mode takes none.
 */
export function sidecarEnv(parts: {
  sts: FakeSts;
  tokenFile: string;
  authTokenFile: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    STS_SIDECAR_STS_ENDPOINT: parts.sts.url,
    STS_SIDECAR_FLAVOR: parts.sts.mode,
    ...(parts.sts.mode === 'rgw' ? { STS_SIDECAR_ROLE_ARN: ROLE_ARN } : {}),
    STS_SIDECAR_TOKEN_FILE: parts.tokenFile,
    STS_SIDECAR_AUTH_TOKEN_FILE: parts.authTokenFile,
    STS_SIDECAR_LISTEN_PORT: '0',
    STS_SIDECAR_OPS_PORT: '0',
    STS_SIDECAR_OPS_HOST: '127.0.0.1',
    STS_SIDECAR_SHUTDOWN_GRACE_SECONDS: '0',
    POD_NAMESPACE: 'shop',
    POD_NAME: 'cart-0',
  };
}

/**
 * The built sidecar as a child process, the way a user runs it (env only), against a fake
 * OIDC issuer + STS, with a kubelet-style token volume and its own auth-token directory.
 * Ports are 0 (free ones); the real addresses come from the `listening` log line.
 */
export class SidecarProcess {
  readonly child: ChildProcess;
  readonly issuer: OidcIssuer;
  readonly sts: FakeSts;
  readonly volume: KubeletTokenVolume;
  readonly authDir: string;
  readonly authTokenFile: string;
  readonly #log = new LogLines();
  /** Every NDJSON line so far. */
  readonly lines: LogLine[] = this.#log.all;
  /** Everything the sidecar wrote to stderr (start-up errors). */
  stderr = '';
  readonly exited: Promise<number | null>;
  credentialsUrl = '';
  opsUrl = '';
  #exitCode: number | null | undefined;

  private constructor(parts: {
    child: ChildProcess;
    issuer: OidcIssuer;
    sts: FakeSts;
    volume: KubeletTokenVolume;
    authDir: string;
  }) {
    this.child = parts.child;
    this.issuer = parts.issuer;
    this.sts = parts.sts;
    this.volume = parts.volume;
    this.authDir = parts.authDir;
    this.authTokenFile = join(parts.authDir, 'token');
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    const rl = createInterface({ input: this.child.stdout! });
    rl.on('line', (text) => this.#log.push(text));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.#exitCode = code;
        resolve(code);
      }),
    );
  }

  static async start(options: SidecarProcessOptions = {}): Promise<SidecarProcess> {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
    const issuer = await OidcIssuer.start();
    const sts = await FakeSts.start({
      mode: 'rgw',
      trustedIssuers: [issuer.issuer],
      audience: AUDIENCE,
      roles: [{ arn: ROLE_ARN }],
      ...options.sts,
    });
    const volume = await KubeletTokenVolume.create(
      issuer.signToken({ audience: AUDIENCE, namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' }),
    );
    const authDir = await mkdtemp(join(tmpdir(), 'sts-sidecar-auth-'));
    const env: NodeJS.ProcessEnv = {
      ...sidecarEnv({ sts, tokenFile: volume.path, authTokenFile: join(authDir, 'token') }),
      ...options.env,
    };
    options.beforeSpawn?.(sts);
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BUNDLE], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal === undefined ? {} : { signal: options.signal, killSignal: 'SIGKILL' }),
    });
    // An abort surfaces as an 'error' event on the child; its exit is what the waiters see.
    child.on('error', () => undefined);
    const proc = new SidecarProcess({ child, issuer, sts, volume, authDir });
    let listening: LogLine;
    try {
      listening = await proc.waitFor((l) => l.event === 'listening');
    } catch (error) {
      // It never came up (a start-up error under test): release the fakes, or they keep the test alive.
      await proc.close();
      throw error;
    }
    proc.credentialsUrl = String(listening.credentialsUrl);
    proc.opsUrl = String(listening.opsUrl);
    return proc;
  }

  /** Resolves with the first line (already seen or still to come) matching `predicate`. */
  waitFor(predicate: (l: LogLine) => boolean): Promise<LogLine> {
    return this.#log.waitFor(
      predicate,
      this.exited,
      (code) => `the sidecar exited (${code}) before the expected log line; stderr: ${this.stderr}`,
    );
  }

  /** Resolves with the next matching line after `action`. */
  async next(predicate: (l: LogLine) => boolean, action: () => unknown = () => {}): Promise<LogLine> {
    const pending = this.#log.waitFor(
      predicate,
      this.exited,
      (code) => `the sidecar exited (${code})`,
      this.lines.length,
    );
    await action();
    return pending;
  }

  /** The first successful exchange (the endpoint serves from then on). */
  ready(): Promise<LogLine> {
    return this.waitFor((l) => l.event === 'exchange' && l.result === 'success');
  }

  authToken(): Promise<string> {
    return readFile(this.authTokenFile, 'utf8');
  }

  /** Env an app container would get: FULL_URI + TOKEN_FILE, never AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  clientEnv(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.authDir,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: this.credentialsUrl,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: this.authTokenFile,
      AWS_CONFIG_FILE: join(this.authDir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(this.authDir, 'no-credentials'),
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  async stop(): Promise<number | null> {
    if (this.#exitCode === undefined) this.child.kill('SIGTERM');
    return this.exited;
  }

  async close(): Promise<void> {
    if (this.#exitCode === undefined) this.child.kill('SIGKILL');
    await this.exited;
    await this.sts.close();
    await this.issuer.close();
    await this.volume.cleanup();
    await rm(this.authDir, { recursive: true, force: true });
  }

  /** Mints a token shaped like the pod's and rotates it in kubelet fashion. */
  async rotateToken(overrides: SignTokenOptions = {}): Promise<string> {
    const token = this.issuer.signToken({
      audience: AUDIENCE,
      namespace: 'shop',
      serviceAccount: 'cart',
      podName: 'cart-0',
      ...overrides,
    });
    await this.volume.write(token);
    return token;
  }
}
