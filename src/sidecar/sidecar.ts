import type { SidecarConfig } from '../config/sidecar-config.ts';
import { type Clock, systemClock } from '../credentials/clock.ts';
import { CredentialStore } from '../credentials/credential-store.ts';
import { type RefreshOutcome, RefreshScheduler } from '../credentials/refresh-scheduler.ts';
import { isSidecarError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { SidecarMetrics } from './sidecar-metrics.ts';
import { type ExchangeSuccess, StsExchanger } from '../sts/exchanger.ts';
import type { TokenClaims } from '../token/projected-token.ts';
import { TokenSource } from '../token/token-source.ts';
import { FileWatcher } from '../shared/file-watcher.ts';

export interface SidecarOptions {
  config: SidecarConfig;
  logger: Logger;
  /** Default: a fresh SidecarMetrics with process metrics. */
  metrics?: SidecarMetrics;
  /** Default: the system clock. Tests pass a virtual one. */
  clock?: Clock;
  /** Default: Math.random. */
  random?: () => number;
  /** How often the token file is checked besides the watcher's hints; default 10 s. */
  tokenPollIntervalMs?: number;
}

/** An Expiration this far beyond DurationSeconds is not clock noise. */
const LIFETIME_SLACK_MS = 5 * 60_000;
/** Below this lifetime (what a store may issue despite DurationSeconds >= 900) serving gets choppy. */
const SHORT_LIFETIME_MS = 300_000;

/** One attempt's result, with the token claims for the log line. */
interface Exchanged extends ExchangeSuccess {
  readonly claims: TokenClaims;
}

/**
 * Wires the engine together: token file → exchanger → credential store, timed by the refresh
 * scheduler and woken by the token watcher. Logging and metrics for exchanges happen here, in
 * one place, from the scheduler's outcomes.
 */
export class Sidecar {
  readonly store: CredentialStore;
  readonly metrics: SidecarMetrics;
  readonly scheduler: RefreshScheduler<Exchanged>;
  readonly #log: Logger;
  readonly #config: SidecarConfig;
  readonly #exchanger: StsExchanger;
  /** Wakes the scheduler when the token file changes; public so tests can observe it. */
  readonly watcher: FileWatcher;
  readonly #clock: Clock;
  /** Claims of the token read by the attempt in flight; for failure log lines. */
  #lastClaims: TokenClaims | undefined;

  constructor(options: SidecarOptions) {
    const { config } = options;
    const clock = options.clock ?? systemClock;
    this.#config = config;
    this.#clock = clock;
    this.#log = options.logger.child({ component: 'engine' });
    this.metrics = options.metrics ?? new SidecarMetrics();
    this.store = new CredentialStore({ now: () => clock.now(), monotonicNow: () => clock.monotonicNow() });
    const source = new TokenSource({ tokenFile: config.tokenFile, now: () => clock.now() });
    this.#exchanger = new StsExchanger({
      endpoint: config.stsEndpoint,
      flavor: config.flavor,
      region: config.region,
      roleArn: config.roleArn,
      roleSessionName: config.roleSessionName,
      durationSeconds: config.durationSeconds,
      sessionPolicy: config.sessionPolicy,
      caPem: config.caPem,
      timeoutMs: config.stsTimeoutMs,
      now: () => clock.now(),
      minRemainingMs: this.store.minRemainingMs,
    });
    this.watcher = new FileWatcher({
      file: config.tokenFile,
      pollIntervalMs: options.tokenPollIntervalMs ?? 10_000,
    });

    const attempt = async (signal: AbortSignal): Promise<Exchanged> => {
      this.#lastClaims = undefined;
      let token: Awaited<ReturnType<TokenSource['read']>>;
      try {
        token = await source.read();
      } catch (error) {
        if (isSidecarError(error)) this.metrics.tokenReadErrors.inc({ code: error.code });
        throw error;
      }
      this.#lastClaims = token.claims;
      if (token.claims.exp !== undefined) this.metrics.tokenExpiry.set(token.claims.exp);
      const exchanged = await this.#exchanger.exchange(token.value, signal);
      return { ...exchanged, claims: token.claims };
    };
    this.scheduler = new RefreshScheduler<Exchanged>({
      attempt,
      store: this.store,
      clock,
      random: options.random ?? Math.random,
      maxRefreshIntervalMs: config.maxRefreshIntervalMs,
      maxLifetimeMs: config.durationSeconds * 1000,
    });
    this.scheduler.on('clockJump', ({ jumpMs }) =>
      this.#log.warn(
        { event: 'clock_jump', jumpMs: Math.round(jumpMs) },
        'the wall clock jumped (suspend/resume or a clock step); refreshing now',
      ),
    );
    this.scheduler.on('outcome', (outcome) => this.#record(outcome));
    this.store.on('change', (c) => this.metrics.credentialsExpiry.set(c ? c.expiration.getTime() / 1000 : 0));
    this.watcher.on('change', () => {
      this.#log.debug({ event: 'token_changed' }, 'token file changed');
      this.scheduler.tokenChanged();
    });
  }

  /** Starts watching the token file and runs the first exchange; resolves once it is done. */
  async start(): Promise<void> {
    const c = this.#config;
    this.#log.info(
      {
        event: 'start',
        stsEndpoint: c.stsEndpoint,
        flavor: c.flavor,
        roleArn: c.roleArn,
        roleSessionName: c.roleSessionName,
        durationSeconds: c.durationSeconds,
        tokenFile: c.tokenFile,
        caFile: c.caFile,
      },
      'starting',
    );
    if (c.durationSeconds < 2400)
      this.#log.warn(
        { event: 'short_duration', durationSeconds: c.durationSeconds },
        'credentials this short reach SDK refresh windows (up to 15 min) soon after each refresh; prefer --duration-seconds >= 2400',
      );
    if (c.stsEndpoint.startsWith('http:'))
      this.#log.warn(
        { event: 'plaintext_sts' },
        'the STS endpoint is http://: tokens and credentials cross the network unencrypted',
      );
    await this.watcher.start();
    await this.scheduler.start();
  }

  /** Stops refreshing and watching. Credentials already held stay servable until they lapse. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.watcher.close();
    this.#exchanger.close();
  }

  #record(outcome: RefreshOutcome<Exchanged>): void {
    const seconds = outcome.durationMs / 1000;
    const claims = outcome.ok ? outcome.result.claims : this.#lastClaims;
    const common = {
      event: 'exchange',
      durationMs: outcome.durationMs,
      roleArn: this.#config.roleArn,
      tokenSub: claims?.sub,
      tokenAud: claims?.aud,
      tokenExp: claims?.exp === undefined ? undefined : new Date(claims.exp * 1000).toISOString(),
      nextAttemptAt: new Date(outcome.nextAttemptAt).toISOString(),
    };
    if (outcome.ok) {
      const expiration = outcome.result.credentials.expiration;
      const storeClockAheadMs = outcome.result.storeClockAheadMs;
      this.metrics.recordExchange('success', 'none', seconds);
      if (storeClockAheadMs !== undefined) this.metrics.storeClockAhead.set(storeClockAheadMs / 1000);
      const lifetimeMs = expiration.getTime() - (this.#clock.now() + (storeClockAheadMs ?? 0));
      if (lifetimeMs > this.#config.durationSeconds * 1000 + LIFETIME_SLACK_MS)
        this.#log.warn(
          { event: 'expiration_beyond_duration', expiration: expiration.toISOString() },
          'STS returned an Expiration beyond the DurationSeconds asked for; refreshes are planned on DurationSeconds',
        );
      else if (lifetimeMs < SHORT_LIFETIME_MS)
        this.#log.warn(
          { event: 'short_lifetime', lifetimeSeconds: Math.round(lifetimeMs / 1000) },
          `STS issued credentials with less than ${SHORT_LIFETIME_MS / 1000} s of life; each is served for only lifetime - 60 s and refreshed every few seconds to a minute. Raise the role's session duration.`,
        );
      this.metrics.lastSuccess.set(this.#clock.now() / 1000);
      this.#log.info(
        {
          ...common,
          result: 'success',
          expiration: expiration.toISOString(),
          assumedRoleArn: outcome.result.assumedRoleArn,
          // The key ID is an identifier, not a secret (AWS treats it so); it lets an operator
          // match this line with the store's audit log.
          accessKeyId: outcome.result.credentials.accessKeyId,
          storeClockAheadMs,
        },
        'credentials refreshed',
      );
      return;
    }
    const { error } = outcome;
    this.metrics.recordExchange('failure', error.code, seconds);
    const servableUntil = this.store.servableUntil();
    this.#log[error.retry === 'transient' ? 'warn' : 'error'](
      {
        ...common,
        result: 'failure',
        err: error,
        retry: error.retry,
        consecutiveFailures: outcome.consecutiveFailures,
        servingUntil:
          this.store.servable() && servableUntil !== undefined
            ? new Date(servableUntil).toISOString()
            : 'nothing',
      },
      'exchange failed',
    );
  }
}
