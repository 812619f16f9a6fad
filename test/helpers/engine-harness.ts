import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { loadSidecarConfig } from '../../src/config/sidecar-config.ts';
import type { AttemptSuccess, RefreshOutcome } from '../../src/credentials/refresh-scheduler.ts';
import { createLogger } from '../../src/shared/log.ts';
import { SidecarMetrics } from '../../src/sidecar/sidecar-metrics.ts';
import { Sidecar } from '../../src/sidecar/sidecar.ts';
import { FakeSts, type StsMode } from '../fakes/fake-sts.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from './kubelet-token-volume.ts';
import { VirtualClock } from './virtual-clock.ts';
import { seededRandom } from './seeded-random.ts';

export const AUDIENCE = 'sts.example.test';
export const ROLE_ARN = 'arn:aws:iam:::role/app';
/** Tokens outlive the many virtual hours some tests cover. */
const LONG_TOKEN_SECONDS = 30 * 86_400;

export interface EngineHarnessOptions {
  mode?: StsMode;
  /** Extra env for the sidecar configuration. */
  env?: NodeJS.ProcessEnv;
  /** Lifetime the fake STS actually issues (s). */
  credentialLifetimeSeconds?: number;
  /** Start without a token file. */
  noToken?: boolean;
  /** Deterministic random source; default a seeded PRNG. */
  random?: () => number;
}

/**
 * The engine in-process on a virtual clock, against a real fake STS and OIDC issuer over
 * sockets, with a kubelet-style token volume and captured NDJSON logs.
 */
export class EngineHarness {
  readonly outcomes: RefreshOutcome<AttemptSuccess>[] = [];
  readonly logChunks: string[] = [];

  readonly clock: VirtualClock;
  readonly issuer: OidcIssuer;
  readonly sts: FakeSts;
  readonly volume: KubeletTokenVolume;
  readonly sidecar: Sidecar;
  readonly metrics: SidecarMetrics;

  private constructor(parts: {
    clock: VirtualClock;
    issuer: OidcIssuer;
    sts: FakeSts;
    volume: KubeletTokenVolume;
    sidecar: Sidecar;
    metrics: SidecarMetrics;
  }) {
    this.clock = parts.clock;
    this.issuer = parts.issuer;
    this.sts = parts.sts;
    this.volume = parts.volume;
    this.sidecar = parts.sidecar;
    this.metrics = parts.metrics;
    this.sidecar.scheduler.on('outcome', (o) => this.outcomes.push(o));
  }

  static async create(options: EngineHarnessOptions = {}): Promise<EngineHarness> {
    const mode = options.mode ?? 'rgw';
    const clock = new VirtualClock(Date.now());
    const issuer = await OidcIssuer.start();
    const sts = await FakeSts.start({
      mode,
      trustedIssuers: [issuer.issuer],
      audience: AUDIENCE,
      roles: [{ arn: ROLE_ARN, maxSessionDurationSeconds: 43_200 }],
      now: () => clock.now(),
      ...(options.credentialLifetimeSeconds === undefined
        ? {}
        : { credentialLifetimeSeconds: options.credentialLifetimeSeconds }),
    });
    const volume = await KubeletTokenVolume.create();
    const env: NodeJS.ProcessEnv = {
      STS_SIDECAR_STS_ENDPOINT: sts.url,
      STS_SIDECAR_FLAVOR: mode,
      STS_SIDECAR_TOKEN_FILE: volume.path,
      STS_SIDECAR_STS_TIMEOUT_SECONDS: '1',
      POD_NAMESPACE: 'shop',
      POD_NAME: 'cart-0',
      ...(mode === 'rgw' ? { STS_SIDECAR_ROLE_ARN: ROLE_ARN } : {}),
      ...options.env,
    };
    const config = loadSidecarConfig([], env);
    const capture = new PassThrough();
    const metrics = new SidecarMetrics({ processMetrics: false });
    const sidecar = new Sidecar({
      config,
      logger: createLogger({ level: 'debug', destination: capture }),
      metrics,
      clock,
      random: options.random ?? seededRandom(42),
      tokenPollIntervalMs: 3_600_000,
    });
    const harness = new EngineHarness({ clock, issuer, sts, volume, sidecar, metrics });
    capture.on('data', (chunk: Buffer) => harness.logChunks.push(chunk.toString('utf8')));
    if (!options.noToken) await harness.rotateToken();
    return harness;
  }

  /** Writes a freshly signed token the kubelet way and returns it. */
  async rotateToken(overrides: SignTokenOptions = {}): Promise<string> {
    const token = this.issuer.signToken({
      namespace: 'shop',
      serviceAccount: 'cart',
      podName: 'cart-0',
      audience: AUDIENCE,
      lifetimeSeconds: LONG_TOKEN_SECONDS,
      now: new Date(this.clock.now()),
      ...overrides,
    });
    await this.volume.write(token);
    return token;
  }

  /** Resolves with the next outcome after `action` (attach first, then act: no race). */
  async nextOutcome(action: () => unknown = () => {}): Promise<RefreshOutcome<AttemptSuccess>> {
    const next = once(this.sidecar.scheduler, 'outcome');
    await action();
    const [outcome] = await next;
    return outcome;
  }

  /** Advances the virtual clock to the next scheduled attempt and returns its outcome. */
  async runNextAttempt(): Promise<RefreshOutcome<AttemptSuccess>> {
    const at = this.sidecar.scheduler.nextAttemptAt;
    if (at === undefined) throw new Error('no attempt is scheduled');
    return this.nextOutcome(() => this.clock.advanceTo(at));
  }

  get logs(): string {
    return this.logChunks.join('');
  }

  logLines(): Array<Record<string, unknown>> {
    return this.logs
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    await this.sidecar.stop();
    await this.sts.close();
    await this.issuer.close();
    await this.volume.cleanup();
  }
}
